"""Pages of the scenarios app: value segments, segment targets, growth scenarios and survey answers.

Every view parses its input, checks the role, calls a selector or service and renders a full page, or a
partial of the same template when htmx asks for one (``HX-Target`` names the section).
One module per page area; this package names the views the URLconf mounts.
"""

from .scenario_edit import scenario_copy, scenario_delete, scenario_edit, scenario_make_plan, scenario_preview
from .scenarios import scenarios
from .segment_targets import segment_targets
from .segments import segments
from .surveys import survey_new

__all__ = [
    "scenario_copy",
    "scenario_delete",
    "scenario_edit",
    "scenario_make_plan",
    "scenario_preview",
    "scenarios",
    "segment_targets",
    "segments",
    "survey_new",
]
