"""``riskgrade serve``: the HTTP JSON service (FastAPI + uvicorn, the optional extra ``riskgrade[serve]``).

Imported only by the ``serve`` command and tests; nothing else in riskgrade imports it, so that
``import riskgrade`` never loads the web stack.
"""

from riskgrade._serve.app import ServeOptions, create_app, read_api_keys

__all__ = ["ServeOptions", "create_app", "read_api_keys"]
