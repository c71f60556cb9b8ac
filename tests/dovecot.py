"""A real Dovecot IMAP server for the bounce tests, started per test on free loopback ports.

Dovecot refuses UID 0 for mail, so the mail folder belongs to the ``vmail``
system user (created once on the machine, see REAL-CLIENTS.md). The server
speaks plain IMAP (port ``port``, also offering STARTTLS) and IMAPS
(``tls_port``) with a certificate for 127.0.0.1 signed by a throwaway CA
(``ca_file``) made here with ``cryptography``. Skips, saying why, when Dovecot
or the ``vmail`` user is missing.
"""

from __future__ import annotations

import datetime
import ipaddress
import mailbox
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER = "bounces"
PASSWORD = "secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def make_tls_files(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1: (ca.pem, server.pem, server.key)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "syndicate test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(_pem(key))
    return ca_file, cert_file, key_file


CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {run}
state_dir = {state}
log_path = {log}
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{mail}/%u/Maildir
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid=vmail gid=vmail home={mail}/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
default_login_user = vmail
default_internal_user = vmail
"""


@dataclass
class Dovecot:
    port: int
    tls_port: int
    ca_file: Path
    maildir: Path  # the user's INBOX
    user: str = USER
    password: str = PASSWORD

    def deliver(self, *messages: bytes) -> None:
        """Deliver as a local delivery agent would: files into the Maildir, owned by vmail."""
        box = mailbox.Maildir(self.maildir, create=True)
        for message in messages:
            box.add(mailbox.MaildirMessage(message))
        vmail = pwd.getpwnam("vmail")
        for path in [self.maildir.parent, *self.maildir.parent.rglob("*")]:
            os.chown(path, vmail.pw_uid, vmail.pw_gid)

    def folder(self, name: str) -> mailbox.Maildir:
        return mailbox.Maildir(self.maildir / f".{name}" if name != "INBOX" else self.maildir, create=False)


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if process.poll() not in (None, 0):
                break
            time.sleep(0.05)  # waiting for a server to come up, not for a schedule
    text = log.read_text(errors="replace") if log.exists() else ""
    pytest.fail(f"Dovecot did not start on 127.0.0.1:{port}: {text[-2000:]}")


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if binary is None:
        pytest.skip("dovecot is not installed (Debian: apt-get install dovecot-imapd)")
    try:
        vmail = pwd.getpwnam("vmail")
    except KeyError:
        pytest.skip("no vmail user (useradd -r -M -s /usr/sbin/nologin vmail): Dovecot refuses UID 0 for mail")
    if os.geteuid() != 0:
        pytest.skip("Dovecot's test instance needs root to switch to the vmail user")
    # Not under pytest's tmp_path: its parents are mode 0700, and the vmail user must reach the mail.
    root = Path(tempfile.mkdtemp(prefix="syndicate-dovecot-"))
    root.chmod(0o755)
    run, state, mail = root / "run", root / "state", root / "mail"
    for folder in (run, state, mail):
        folder.mkdir()
    ca_file, cert, key = make_tls_files(root / "tls")
    port, tls_port = _free_port(), _free_port()
    config = root / "dovecot.conf"
    log = root / "dovecot.log"
    config.write_text(
        CONFIG.format(
            run=run,
            state=state,
            log=log,
            cert=cert,
            key=key,
            mail=mail,
            password=PASSWORD,
            port=port,
            tls_port=tls_port,
        )
    )
    maildir = mail / USER / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for path in [mail, *mail.rglob("*")]:
        os.chown(path, vmail.pw_uid, vmail.pw_gid)
    process = subprocess.Popen([binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(port, process, log)
        _wait_for(tls_port, process, log)
        yield Dovecot(port, tls_port, ca_file, maildir)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
        shutil.rmtree(root, ignore_errors=True)
