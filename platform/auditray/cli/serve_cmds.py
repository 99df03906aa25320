"""``auditray serve``, ``auditray evidence verify`` and ``auditray users ...``: the API's command line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import typer

from auditray.cli.app import app

evidence_app = typer.Typer(help="Signed evidence packs of runs.", no_args_is_help=True)
users_app = typer.Typer(help="API users: the first admin, passwords.", no_args_is_help=True)
app.add_typer(evidence_app, name="evidence")
app.add_typer(users_app, name="users")

ROLES = ("admin", "partner", "manager", "senior", "staff", "qc_reviewer", "client_contact")


@app.command("serve")
def serve_api(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (127.0.0.1: this machine only)."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    replicas: int = typer.Option(1, min=1, max=64, help="API replicas (Ray Serve deployments)."),
    max_ongoing_requests: int = typer.Option(64, min=1, max=10_000, help="Concurrent requests per replica."),
    ha_proxy: bool = typer.Option(False, "--ha-proxy", help="Use Serve's HAProxy ingress (a fresh local Ray only)."),
    detach: bool = typer.Option(False, "--detach", help="Deploy and return instead of serving until Ctrl-C."),
) -> None:
    """Start the API on Ray Serve (embedded default: local Ray, SQLite under the data directory)."""
    if ha_proxy:
        os.environ["RAY_SERVE_ENABLE_HA_PROXY"] = "1"
    from ray import serve

    from auditray.api.app import refuse_weak_secrets
    from auditray.api.serve import build_app
    from auditray.engine import ensure_ray
    from auditray.settings import get_settings
    from auditray.store import init_db

    settings = get_settings()
    try:
        refuse_weak_secrets(settings)
    except RuntimeError as error:
        raise typer.BadParameter(str(error), param_hint="AUDITRAY_SECRET_KEY") from None
    if settings.is_embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    init_db(settings.resolved_database_url)
    ensure_ray(settings)
    serve.start(http_options={"host": host, "port": port}, logging_config={"enable_access_log": False})
    overrides = {"data_dir": str(settings.data_dir), "env": settings.env}
    if settings.database_url:
        overrides["database_url"] = settings.database_url
    serve.run(build_app({"settings": overrides, "num_replicas": replicas,
                         "max_ongoing_requests": max_ongoing_requests}),
              name="api", route_prefix="/", blocking=False)
    typer.echo(f"Auditray API on http://{host}:{port} (docs: http://{host}:{port}/docs); "
               f"{replicas} replica(s), data in {settings.data_dir}")
    if detach:
        return
    import time

    typer.echo("Ctrl-C to stop.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        serve.shutdown()


@evidence_app.command("verify")
def evidence_verify(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="An evidence pack (zip)."),
    public_key: str = typer.Option(None, "--public-key",
                                   help="Hex Ed25519 public key to trust (default: this server's, from the secret)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Check an evidence pack: the manifest's signature and every file's SHA-256. Exits 0 if intact, 1 if not."""
    from auditray.evidence import verify_pack
    from auditray.settings import get_settings

    if public_key is not None:
        try:
            if len(bytes.fromhex(public_key)) != 32:
                raise ValueError
        except ValueError:
            raise typer.BadParameter("an Ed25519 public key is 64 hexadecimal characters",
                                     param_hint="--public-key") from None
    result = verify_pack(file.read_bytes(), public_key=public_key,
                         secret=None if public_key else get_settings().secret_key)
    if as_json:
        typer.echo(json.dumps({**result.to_dict(), "message": result.message}))
    else:
        typer.echo(result.message)
        for problem in result.problems:
            typer.echo(f"  - {problem}")
    raise typer.Exit(0 if result.ok else 1)


@users_app.command("create")
def users_create(
    email: str = typer.Argument(..., help="The user's email (their sign-in name)."),
    org: str = typer.Option(..., "--org", help="Organization slug (created with --org-name if new)."),
    org_name: str = typer.Option(None, "--org-name", help="Create the organization with this name."),
    full_name: str = typer.Option(None, "--name", help="Full name (default: from the email)."),
    role: str = typer.Option("admin", help=f"Firm role: {', '.join(ROLES)}."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Create a user who can sign in to the API (the first admin, typically), with an audited password."""
    if role not in ROLES:
        raise typer.BadParameter(f"{role!r} is not a role; roles are {', '.join(ROLES)}", param_hint="--role")
    password = _read_password(password_stdin)
    from auditray.auth.passwords import PasswordPolicyError, check_password_policy
    from auditray.auth.services import create_user_with_password
    from auditray.store import (
        AlreadyExists,
        NotFound,
        OrganizationCreate,
        UserCreate,
        init_db,
        make_engine,
        session_scope,
    )
    from auditray.store import services as svc

    try:
        check_password_policy(password, email=email)
        data = UserCreate(email=email, full_name=full_name or email.split("@")[0].replace(".", " ").title(), role=role)
    except (PasswordPolicyError, ValueError) as error:
        raise typer.BadParameter(str(error)) from None
    init_db()
    engine = make_engine()
    try:
        with session_scope(engine) as session:
            try:
                organization = svc.get_organization_by_slug(session, org)
            except NotFound:
                if not org_name:
                    raise typer.BadParameter(f"no organization {org!r}: add --org-name to create it",
                                             param_hint="--org") from None
                organization = svc.create_organization(session, OrganizationCreate(name=org_name, slug=org))
            try:
                user = create_user_with_password(session, data, org_id=organization.id, actor="system",
                                                 password=password)
            except AlreadyExists as error:
                raise typer.BadParameter(str(error)) from None
            typer.echo(f"created {user.email} ({user.role.value}) in {organization.slug} (organization {organization.id})")
    finally:
        engine.dispose()


@users_app.command("set-password")
def users_set_password(
    email: str = typer.Argument(..., help="The user's email."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Set a user's password (ends their sessions); for users created without one, e.g. by the demo."""
    password = _read_password(password_stdin)
    from auditray.auth.passwords import PasswordPolicyError
    from auditray.auth.services import set_password
    from auditray.store import NotFound, make_engine, session_scope
    from auditray.store import services as svc

    engine = make_engine()
    try:
        with session_scope(engine) as session:
            try:
                user = svc.get_user_by_email(session, email)
                set_password(session, user_id=user.id, org_id=user.org_id, password=password, actor="system")
            except (NotFound, PasswordPolicyError) as error:
                raise typer.BadParameter(str(error)) from None
    finally:
        engine.dispose()
    typer.echo(f"password set for {email}")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise typer.BadParameter("the password is empty")
    return password
