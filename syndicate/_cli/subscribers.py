"""``syndicate subscribers ...``: the mailing list."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.table import Table

from .._model import Severity, SubscriberStatus
from .._newsletter.subscribers import InvalidAddressError, ListStats
from .._newsletter.unsubscribe import InvalidTokenError
from .common import (
    ExitCode,
    console,
    err_console,
    examples,
    handle_errors,
    json_option,
    open_site,
    print_json,
    site_option,
)

_STATUS = click.Choice([s.value for s in SubscriberStatus])


@click.group()
def subscribers() -> None:
    """Manage newsletter subscribers."""


@subscribers.command(
    "import", epilog=examples("syndicate subscribers import list.csv", "syndicate subscribers import list.csv --json")
)
@site_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@handle_errors
def import_(site_dir: str, file: Path, as_json: bool) -> None:
    """Import subscribers from a CSV file with a header row `email,name`.

    Addresses are validated and normalised; duplicates (any letter case) are
    merged; invalid lines are reported by line number and the rest imported.
    An address that unsubscribed or bounced stays so; one that asked to be
    forgotten (`subscribers forget`) is reported and skipped.
    """
    with open_site(site_dir) as site:
        result = site.subscribers.import_csv(file)
    report, c = result.report, result.report.counts
    if as_json:
        print_json(result.as_json())
    else:
        for problem in report.problems:
            colour = "red" if problem.severity is Severity.ERROR else "yellow"
            err_console.print(f"[{colour}]{problem}[/{colour}]")
        console.print(
            f"{report.path}: {report.read} row(s): {c.added} added, {c.renamed} renamed, {c.unchanged} unchanged, "
            f"{c.kept_inactive} kept unsubscribed/bounced, {report.duplicates} duplicate(s) merged, "
            f"{report.forgotten} skipped (forgotten on request), {len(result.errors)} refused"
        )
    if result.errors:
        sys.exit(ExitCode.PROBLEMS)


@subscribers.command(epilog=examples("syndicate subscribers add jane@example.com --name 'Jane Doe'"))
@site_option
@click.argument("email")
@click.option("--name", default="", help="The subscriber's name (used in the greeting).")
@click.option("--resubscribe", is_flag=True, help="Make an unsubscribed or bounced address active again.")
@handle_errors
def add(site_dir: str, email: str, name: str, resubscribe: bool) -> None:
    """Add one subscriber (or update their name)."""
    with open_site(site_dir) as site:
        try:
            change = site.subscribers.add(email, name, resubscribe=resubscribe)
        except InvalidAddressError as exc:
            raise click.BadParameter(exc.reason, param_hint="EMAIL") from None
    subscriber = change.subscriber
    console.print(f"{subscriber.email}: {'added' if change.changed else 'already listed'} ({subscriber.status.value})")
    if not subscriber.active:
        err_console.print("[yellow]not active: use --resubscribe if they asked to come back[/yellow]")


@subscribers.command(epilog=examples("syndicate subscribers remove jane@example.com"))
@site_option
@click.argument("email")
@handle_errors
def remove(site_dir: str, email: str) -> None:
    """Erase a subscriber and their send history (to only stop mail, use `unsubscribe`)."""
    with open_site(site_dir) as site:
        try:
            subscriber = site.subscribers.remove(email)
        except InvalidAddressError as exc:
            raise click.BadParameter(exc.reason, param_hint="EMAIL") from None
    if subscriber is None:
        err_console.print(f"{email}: not on the list")
        sys.exit(ExitCode.NOTHING_TO_DO)
    console.print(f"{subscriber.email}: removed")


@subscribers.command(
    "list", epilog=examples("syndicate subscribers list", "syndicate subscribers list --status unsubscribed --json")
)
@site_option
@click.option("--status", type=_STATUS, help="Only subscribers with this status.")
@json_option
@handle_errors
def list_(site_dir: str, status: str | None, as_json: bool) -> None:
    """List subscribers with their status, bounces, consent and preferences; then the list's health."""
    with open_site(site_dir) as site:
        listing = site.subscribers.list(status)
    if as_json:
        print_json(listing.rows_json())  # a JSON array of subscribers, as scripts have always read it
        return
    table = Table(title=f"{len(listing.subscribers)} subscriber(s)")
    table.add_column("email", no_wrap=True)  # an address cut in two is no use to copy
    for column in ("name", "status", "bounces", "consent", "preferences"):
        table.add_column(column, justify="right" if column == "bounces" else "left")
    for s in listing.subscribers:
        choices = ["text"] if s.plain_text else []
        if s.paused(listing.now) and s.paused_until:
            choices.append(f"paused to {s.paused_until:%Y-%m-%d}")
        table.add_row(s.email, s.name, s.status.value, str(s.bounces), s.consent_method, ", ".join(choices))
    console.print(table)
    _print_stats(listing.stats)


def _print_stats(stats: ListStats) -> None:
    console.print(
        f"active {stats.active} (paused {stats.paused}) · pending {stats.pending} · bounced {stats.bounced} · "
        f"complained {stats.complained} · unsubscribed {stats.unsubscribed}"
    )


@subscribers.command(epilog=examples("syndicate subscribers stats", "syndicate subscribers stats --json"))
@site_option
@json_option
@handle_errors
def stats(site_dir: str, as_json: bool) -> None:
    """The list's health: active, pending, bounced, complained, paused; growth per week.

    Pending counts addresses with an unconfirmed sign-up still within
    [newsletter] confirm_hours. Paused readers are active and counted in both.
    """
    with open_site(site_dir) as site:
        result = site.subscribers.stats()
    if as_json:
        print_json(result.as_json())
        return
    _print_stats(result)
    table = Table(title="growth per week")
    for column in ("week", "joined", "left", "net"):
        table.add_column(column, justify="left" if column == "week" else "right")
    for week, joined, left in result.weeks:
        table.add_row(week, str(joined), str(left), f"{joined - left:+d}")
    console.print(table)


@subscribers.command(
    epilog=examples("syndicate subscribers form > signup-form.html", "syndicate subscribers form --source footer")
)
@site_option
@click.option("--source", default="website", show_default=True, help="Recorded as the consent's source.")
@handle_errors
def form(site_dir: str, source: str) -> None:
    """Print an HTML sign-up form to paste into any page (it posts to [newsletter] subscribe_url).

    The form carries a hidden honeypot field; `syndicate serve` answers it
    with a double opt-in confirmation message.
    """
    with open_site(site_dir) as site:
        click.echo(site.subscribers.signup_form(source), nl=False)


@subscribers.command(epilog=examples("syndicate subscribers forget jane@example.com"))
@site_option
@click.argument("email")
@handle_errors
def forget(site_dir: str, email: str) -> None:
    """Erase a person's data (subscription, consent, send history, sign-ups) on their request.

    Only a salted hash of the address is kept, so a later `import` of an old
    list reports and skips it instead of adding them back silently. They can
    still sign up again themselves through the form (with confirmation).
    """
    with open_site(site_dir) as site:
        try:
            found = site.subscribers.forget(email)
        except InvalidAddressError as exc:
            raise click.BadParameter(exc.reason, param_hint="EMAIL") from None
    state = "erased" if found else "not on record; remembered as forgotten"
    console.print(f"{email.strip()}: {state}")


@subscribers.command(
    epilog=examples("syndicate subscribers export > list.csv", "syndicate subscribers export --status active -o a.csv")
)
@site_option
@click.option("--status", type=_STATUS, help="Only subscribers with this status.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default: stdout).")
@handle_errors
def export(site_dir: str, status: str | None, output: Path | None) -> None:
    """Export subscribers as CSV with their consent records and preferences; `import` reads it back.

    Columns: email, name, status, bounces, created_at, consent_method (import,
    form, api, manual), consent_source, consent_at, confirmed_at, plain_text, paused_until.
    """
    with open_site(site_dir) as site:
        result = site.subscribers.export(status, output=output)
    if output:
        err_console.print(f"wrote {output}")
    else:
        click.echo(result.text, nl=False)


@subscribers.command(
    epilog=examples(
        "syndicate subscribers unsubscribe jane@example.com", "syndicate subscribers unsubscribe --token 12.AbC"
    )
)
@site_option
@click.argument("email", required=False)
@click.option("--token", help="An unsubscribe token from a newsletter link (needs $SYNDICATE_SECRET).")
@handle_errors
def unsubscribe(site_dir: str, email: str | None, token: str | None) -> None:
    """Unsubscribe an address, or the subscriber a signed token names. Nobody is deleted."""
    if bool(email) == bool(token):
        raise click.UsageError("give either EMAIL or --token")
    with open_site(site_dir) as site:
        try:
            change = site.subscribers.unsubscribe(email or None, token=token or None)
        except InvalidTokenError as exc:
            err_console.print(f"[red]refused:[/red] {exc}")
            sys.exit(ExitCode.PROBLEMS)
        except InvalidAddressError as exc:
            raise click.BadParameter(exc.reason, param_hint="EMAIL") from None
    if change is None:
        err_console.print(f"{email}: not on the list")
        sys.exit(ExitCode.NOTHING_TO_DO)
    console.print(f"{change.subscriber.email}: {'unsubscribed' if change.changed else 'already unsubscribed'}")
