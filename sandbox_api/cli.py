"""Command-line tools: API keys and demo data."""

import click
from flask.cli import AppGroup

from sandbox_api.db import db
from sandbox_api.demo import load
from sandbox_api.keys import service as keys_service
from sandbox_api.keys.models import Role

keys_cli = AppGroup("keys", help="Create and revoke API keys.")
demo_cli = AppGroup("demo", help="Demo data.")


@keys_cli.command("create")
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--agency", "agency_slug", help="The agency's slug; required for an agency key.")
@click.option("--name", required=True, help="Who or what holds the key, e.g. `MOE integration`.")
def create_key(role: str, agency_slug: str | None, name: str) -> None:
    """Create a key and print it, alone, on the last line: it is shown only this once."""
    with db.transaction() as session:
        key, plain_text = keys_service.create(session=session, role=Role(role), name=name, agency_slug=agency_slug)
        click.echo(
            f"Created {key.role} key {key.prefix} ({key.name}). Store it now; it cannot be shown again:", err=True
        )
    click.echo(plain_text)


@keys_cli.command("revoke")
@click.argument("key_ref")
def revoke_key(key_ref: str) -> None:
    """Revoke a key, named by its id or its prefix."""
    with db.transaction() as session:
        key = keys_service.revoke(session=session, key_ref=key_ref)
        click.echo(f"Revoked key {key.prefix} ({key.name}).")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Load nothing if the registry already holds a case.")
def load_demo(if_empty: bool) -> None:
    """Load the demo registry; running it again changes nothing."""
    with db.transaction() as session:
        created = load(session=session, if_empty=if_empty)
    click.echo(f"Demo data: {created} cases added." if created else "Demo data: nothing to add.")
