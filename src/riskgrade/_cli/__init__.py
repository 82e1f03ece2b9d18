"""The ``riskgrade`` command line (click): one group, its commands in the modules of this package."""

from __future__ import annotations

from riskgrade._cli.adapt import adapt_group
from riskgrade._cli.author import diff_cmd, whatif_cmd
from riskgrade._cli.doc import doc_cmd, schema_cmd
from riskgrade._cli.graph import assess_cmd, region_cmd
from riskgrade._cli.main import main
from riskgrade._cli.monitor import monitor_cmd
from riskgrade._cli.plan import plan_cmd
from riskgrade._cli.plugins import check_refinement_cmd, plugins_cmd
from riskgrade._cli.render import card_cmd, map_cmd, register_cmd, report_cmd
from riskgrade._cli.screen import screen_cmd
from riskgrade._cli.serve import serve_cmd
from riskgrade._cli.verify import verify_cmd

for _cmd in (assess_cmd, region_cmd, monitor_cmd, plugins_cmd, check_refinement_cmd, diff_cmd, whatif_cmd):
    main.add_command(_cmd)
for _cmd in (doc_cmd, schema_cmd):  # the author's toolkit (docs/authoring.md)
    main.add_command(_cmd)
for _cmd in (map_cmd, register_cmd, card_cmd, report_cmd):  # what people print (docs/maps.md, docs/report.md)
    main.add_command(_cmd)
main.add_command(serve_cmd)  # the HTTP service (docs/platform.md)
main.add_command(plan_cmd)  # differentiated supervision (docs/supervision.md)
main.add_command(screen_cmd)  # admission screening of new projects (docs/screening.md)
main.add_command(adapt_group)  # exchange formats: the ministry's dual-prevention field set (docs/adapters.md)
main.add_command(verify_cmd)  # replay stored decisions (docs/platform.md)

__all__ = ["main"]
