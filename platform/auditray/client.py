"""``auditray.Client``: the Python client of the Auditray API, for notebooks and other systems.

It signs in (email and password, or a service account's API key), refreshes the access token when it
expires, and turns the API's one error format into ``ApiError``. Results come back as polars
DataFrames read from Parquet, so amounts stay exact ``Decimal`` values.

Example::

    import auditray

    client = auditray.Client("http://127.0.0.1:8000", email="sam@firm.example", password="...")
    gl = client.upload(engagement_id, "gl.csv", kind="gl_detail")
    tb = client.upload(engagement_id, "tb.xlsx", kind="trial_balance")
    run = client.start_run(engagement_id, "completeness", gl_dataset=gl["id"], tb_dataset=tb["id"])
    client.wait(run)                                    # a progress bar until the run finishes
    roll_forward = client.result(run, "roll_forward")   # polars.DataFrame
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import httpx

if TYPE_CHECKING:
    import polars as pl

Ref = int | Mapping[str, Any]


class ApiError(Exception):
    """An error answered by the API: HTTP status, stable code, message, details and the request id."""

    def __init__(self, status: int, code: str, message: str, details: Any = None, request_id: str | None = None):
        super().__init__(f"{status} {code}: {message}" + (f" (request {request_id})" if request_id else ""))
        self.status, self.code, self.message = status, code, message
        self.details, self.request_id = details, request_id


def _id(ref: Ref) -> int:
    return int(ref["id"]) if isinstance(ref, Mapping) else int(ref)


class Client:
    """A signed-in connection to one Auditray API."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        email: str | None = None,
        password: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)
        self._access: str | None = None
        self._refresh: str | None = None
        self._api_key = api_key
        if email is not None:
            if password is None:
                raise ValueError("give the password with the email, or use api_key=")
            self.login(email, password)

    # --- plumbing -----------------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _headers(self) -> dict[str, str]:
        if self._api_key:
            return {"X-API-Key": self._api_key}
        if self._access:
            return {"Authorization": f"Bearer {self._access}"}
        return {}

    def request(self, method: str, path: str, *, retry_auth: bool = True, **kwargs: Any) -> httpx.Response:
        """Send a request; refresh the access token once if it expired; raise ``ApiError`` on any error."""
        headers = {**self._headers(), **kwargs.pop("headers", {})}
        response = self._http.request(method, path, headers=headers, **kwargs)
        if response.status_code == 401 and retry_auth and self._refresh and not self._api_key:
            try:
                self.refresh()
            except ApiError:
                pass
            else:
                return self.request(method, path, retry_auth=False, **kwargs)
        if response.status_code >= 400:
            raise self._error(response)
        return response

    @staticmethod
    def _error(response: httpx.Response) -> ApiError:
        try:
            body = response.json()["error"]
            return ApiError(response.status_code, body.get("code", "error"), body.get("message", ""),
                            body.get("details"), body.get("request_id"))
        except (ValueError, KeyError, TypeError):
            return ApiError(response.status_code, "http_error", response.text[:500],
                            request_id=response.headers.get("x-request-id"))

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        return None if response.status_code == 204 or not response.content else response.json()

    def _pages(self, path: str, params: Mapping[str, Any] | None = None, page: int = 500) -> Iterator[dict]:
        offset = 0
        while True:
            body = self._json("GET", path, params={**(params or {}), "offset": offset, "limit": page})
            yield from body["items"]
            offset += len(body["items"])
            if not body["items"] or offset >= body["total"]:
                return

    # --- signing in ---------------------------------------------------------------------------------

    def login(self, email: str, password: str) -> dict:
        tokens = self._json("POST", "/auth/login", json={"email": email, "password": password}, retry_auth=False)
        self._access, self._refresh = tokens["access_token"], tokens["refresh_token"]
        return tokens

    def refresh(self) -> dict:
        response = self._http.post("/auth/refresh", json={"refresh_token": self._refresh})
        if response.status_code >= 400:
            self._access = self._refresh = None
            raise self._error(response)
        tokens = response.json()
        self._access, self._refresh = tokens["access_token"], tokens["refresh_token"]
        return tokens

    def logout(self) -> None:
        if self._access:
            self.request("POST", "/auth/logout", retry_auth=False)
        self._access = self._refresh = None

    def me(self) -> dict:
        return self._json("GET", "/me")

    def health(self) -> dict:
        return self._json("GET", "/health")

    # --- engagements --------------------------------------------------------------------------------

    def engagements(self, state: str | None = None) -> list[dict]:
        return list(self._pages("/engagements", {"state": state} if state else None))

    def engagement(self, engagement: Ref) -> dict:
        return self._json("GET", f"/engagements/{_id(engagement)}")

    def create_engagement(self, **fields: Any) -> dict:
        """Open an engagement: client_name, name, fiscal_year, period_start, period_end, materiality,
        performance_materiality (amounts as strings or Decimal)."""
        body = {k: (str(v) if not isinstance(v, (int, str)) else v) for k, v in fields.items()}
        return self._json("POST", "/engagements", json=body)

    def transition(self, engagement: Ref, to_state: str, reason: str | None = None) -> dict:
        return self._json("POST", f"/engagements/{_id(engagement)}/transition",
                          json={"to_state": to_state, "reason": reason})

    def add_member(self, engagement: Ref, user_id: int, team_role: str | None = None) -> list[dict]:
        return self._json("POST", f"/engagements/{_id(engagement)}/team",
                          json={"user_id": user_id, "team_role": team_role})

    def status(self, engagement: Ref) -> dict:
        return self._json("GET", f"/engagements/{_id(engagement)}/status")

    # --- datasets -----------------------------------------------------------------------------------

    def upload(self, engagement: Ref, path: str | Path, kind: str, *, name: str | None = None,
               entity_id: str | None = None, request_id: int | None = None) -> dict:
        """Upload and register a client file; a rejected file raises ``ApiError`` whose ``details`` is the
        full validation report (every problem by row and column). Returns the dataset."""
        path = Path(path)
        data = {k: str(v) for k, v in {"kind": kind, "name": name, "entity_id": entity_id,
                                       "request_id": request_id}.items() if v is not None}
        with path.open("rb") as handle:
            body = self._json("POST", f"/engagements/{_id(engagement)}/datasets", data=data,
                              files={"file": (path.name, handle)})
        return body["dataset"]

    def datasets(self, engagement: Ref) -> list[dict]:
        return self._json("GET", f"/engagements/{_id(engagement)}/datasets")

    # --- runs ---------------------------------------------------------------------------------------

    def run_kinds(self) -> list[dict]:
        return self._json("GET", "/run-kinds")

    def start_run(self, engagement: Ref, kind: str, **parameters: Any) -> dict:
        return self._json("POST", f"/engagements/{_id(engagement)}/runs", json={"kind": kind, "parameters": parameters})

    def run(self, run: Ref) -> dict:
        return self._json("GET", f"/runs/{_id(run)}")

    def wait(self, run: Ref, *, progress: bool = True, poll: float = 0.5, timeout: float | None = None) -> dict:
        """Poll the run until it finishes, with a progress bar; raise ``ApiError`` if it failed."""
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        deadline = None if timeout is None else time.monotonic() + timeout
        current = self.run(run)
        with Progress(TextColumn("[bold]run {task.fields[run]} {task.fields[kind]}"), BarColumn(),
                      TextColumn("{task.percentage:>3.0f}% {task.fields[status]}"), TimeElapsedColumn(),
                      disable=not progress, transient=False,
                      # Plain text in notebooks too (no ipywidgets needed): the bar redraws in a terminal
                      # and prints its final state elsewhere.
                      console=Console(stderr=True, force_jupyter=False)) as bar:
            task = bar.add_task("run", total=1.0, run=current["id"], kind=current["kind"], status=current["status"])
            while current["status"] in ("queued", "running"):
                bar.update(task, completed=current["progress"], status=current["status"])
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"run {current['id']} still {current['status']} after {timeout} s")
                time.sleep(poll)
                current = self.run(run)
            bar.update(task, completed=current["progress"], status=current["status"])
        if current["status"] != "succeeded":
            raise ApiError(409, f"run_{current['status']}", current.get("error") or f"run {current['id']} "
                           f"{current['status']}")
        return current

    def cancel(self, run: Ref) -> dict:
        """Cancel a running run; it is closed at once and its work stops."""
        return self._json("POST", f"/runs/{_id(run)}/cancel")

    def logs(self, run: Ref, after: int = 0) -> list[dict]:
        return self._json("GET", f"/runs/{_id(run)}/logs", params={"after": after})["items"]

    def results(self, run: Ref) -> dict:
        """The run's summary and the names, row counts and columns of its result tables."""
        return self._json("GET", f"/runs/{_id(run)}/results")

    def result(self, run: Ref, table: str) -> pl.DataFrame:
        """One result table as a polars DataFrame (from Parquet: exact Decimal amounts)."""
        import polars as pl

        response = self.request("GET", f"/runs/{_id(run)}/results/{table}", params={"format": "parquet"})
        return pl.read_parquet(io.BytesIO(response.content))

    # --- findings -----------------------------------------------------------------------------------

    def findings(self, engagement: Ref, **filters: Any) -> pl.DataFrame:
        """Every finding of the engagement matching the filters (run_id, test, risk_band, status)."""
        import polars as pl

        rows = list(self._pages(f"/engagements/{_id(engagement)}/findings",
                                {k: v for k, v in filters.items() if v is not None}))
        return pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()

    def attach(self, engagement: Ref, path: str | Path) -> dict:
        path = Path(path)
        with path.open("rb") as handle:
            return self._json("POST", f"/engagements/{_id(engagement)}/attachments",
                              files={"file": (path.name, handle)})

    def dispose(self, finding: Ref, disposition: str, comment: str, *, engagement: Ref | None = None,
                attachments: list[str | Path] = ()) -> dict:
        """Record a disposition (cleared, exception, escalated) with a comment and evidence files."""
        ids = []
        if attachments:
            if engagement is None:
                engagement = self._json("GET", f"/findings/{_id(finding)}").get("engagement_id")
            ids = [self.attach(engagement, path)["id"] for path in attachments]
        return self._json("POST", f"/findings/{_id(finding)}/dispositions",
                          json={"disposition": disposition, "comment": comment, "attachment_ids": ids})

    def dispositions(self, finding: Ref) -> list[dict]:
        return self._json("GET", f"/findings/{_id(finding)}/dispositions")

    # --- audit trail and evidence -------------------------------------------------------------------

    def audit_events(self, **filters: Any) -> pl.DataFrame:
        import polars as pl

        rows = list(self._pages("/audit/events", {k: v for k, v in filters.items() if v is not None}))
        return pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()

    def verify_audit_trail(self) -> dict:
        return self._json("GET", "/audit/verify")

    def evidence_pack(self, run: Ref, path: str | Path | None = None) -> bytes:
        """The signed evidence pack of a finished run; written to ``path`` when given."""
        data = self.request("POST", f"/runs/{_id(run)}/evidence-pack").content
        if path is not None:
            Path(path).write_bytes(data)
        return data

    def verify_evidence(self, pack: bytes | str | Path) -> dict:
        data = pack if isinstance(pack, bytes) else Path(pack).read_bytes()
        return self._json("POST", "/evidence/verify", files={"file": ("pack.zip", data, "application/zip")})
