"""LTI 1.3 endpoints: OIDC login, launch, JWKS, dynamic registration, Canvas JSON config."""
from flask import Flask


def init_app(app: Flask) -> None:
    pass
