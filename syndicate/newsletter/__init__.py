"""The weekly newsletter: selecting an issue, rendering it, and sending it."""
