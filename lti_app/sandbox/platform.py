"""`SandboxPlatform`: one running sandbox LMS (state + keys + Flask app + HTTP server) and its
registration in the tool's database. The test peer and `gradeloop run` both build on it."""
from __future__ import annotations

from pathlib import Path

from lti_app.sandbox.app import create_platform_app
from lti_app.sandbox.keys import KeyRing
from lti_app.sandbox.oidc import product_family
from lti_app.sandbox.server import ServerThread
from lti_app.sandbox.state import PlatformState, ToolRegistration

PLATFORM_NAME = "Sandbox LMS"


class SandboxPlatform:
    def __init__(self, tool_url: str, *, client_id: str = "gradeloop-sandbox-client",
                 deployment_id: str = "sandbox-deployment-1", host: str = "127.0.0.1", port: int = 0,
                 keys: KeyRing | None = None, page_sizes: dict | None = None, quiet: bool = True,
                 ui: bool = True, persist_path: Path | None = None, product_family: str = ""):
        """`product_family`: "canvas" or "moodle" makes the sandbox take scores by that LMS's rules
        (`lms_rules`) and name it in launches; "" keeps its own."""
        self.state = PlatformState(tool=ToolRegistration.for_tool(tool_url, client_id, deployment_id),
                                   page_sizes=page_sizes, product_family=product_family)
        self.keys = keys or KeyRing()
        if persist_path is not None:
            from lti_app.sandbox.persist import load

            load(self.state, persist_path)
        self.app = create_platform_app(self.state, self.keys, ui=ui, persist_path=persist_path)
        self.server = ServerThread(self.app, host, port, quiet=quiet)
        self.state.issuer = self.server.url

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def issuer(self) -> str:
        return self.state.issuer

    @property
    def client_id(self) -> str:
        return self.state.tool.client_id

    @property
    def deployment_id(self) -> str:
        return self.state.tool.deployment_id

    def start(self) -> SandboxPlatform:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def registration(self) -> dict:
        """The arguments of `lti_app.platforms.upsert_platform` for this platform."""
        st = self.state
        return dict(issuer=st.issuer, client_id=self.client_id, deployment_ids=[self.deployment_id],
                    auth_login_url=st.auth_url, auth_token_url=st.token_url, key_set_url=st.jwks_url,
                    name=PLATFORM_NAME, product_family=product_family(st))

    def register_in_tool(self, tool_app) -> int:
        """Register in the tool's DB (inside its app context); returns the platform's id."""
        from lti_app.platforms import upsert_platform

        with tool_app.app_context():
            return upsert_platform(**self.registration()).id
