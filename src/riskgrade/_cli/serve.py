"""``riskgrade serve``: run the HTTP JSON service (docs/platform.md) on uvicorn.

Exit codes: 0 stopped; 2 the optional extra ``riskgrade[serve]`` is not installed (usage).
"""

from __future__ import annotations

import click

from riskgrade._cli.main import _lang, _lang_option

__all__ = ["serve_cmd"]


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="TCP port")
@click.option("--ruleset", "-r", "rulesets", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="also serve this ruleset file, under its id (repeatable)")
@click.option("--max-body", "max_body", default=8 * 1024 * 1024, show_default=True, type=click.IntRange(1),
              metavar="BYTES", help="the largest request body (413 above it)")
@click.option("--max-batch", "max_batch", default=10_000, show_default=True, type=click.IntRange(1),
              metavar="N", help="the most records in one grade request (413 above it)")
@_lang_option
def serve_cmd(host: str, port: int, rulesets: tuple[str, ...], max_body: int, max_batch: int,
              lang: str | None) -> None:
    """Serve POST /v1/grade/{ruleset}, /v1/explain/{ruleset}, /v1/assess, GET /v1/rulesets[/{id}],
    /healthz and the OpenAPI document at /openapi.json (needs: pip install 'riskgrade[serve]')."""
    try:
        # the web stack is an optional extra, imported only when serving
        import uvicorn

        from riskgrade._serve import ServeOptions, create_app
    except ImportError as e:
        need = "riskgrade serve 需要可选依赖" if _lang(lang) == "zh" else "riskgrade serve needs the extra"
        raise click.UsageError(f"{need}: pip install 'riskgrade[serve]' ({e})") from None
    uvicorn.run(create_app(ServeOptions(rulesets, max_body=max_body, max_batch=max_batch)), host=host, port=port,
                log_level="info", ws="none", lifespan="off")
