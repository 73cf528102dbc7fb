"""Report templates: the library, what makes one valid, technique text and sentence routing.

This package is the code; the templates themselves are data, ``templates/*.yaml`` at the top
of the repository (``reportdraft/_bundled/templates`` in a wheel), found through
:func:`reportdraft.resources.data_dir`. Callers import from here::

    library = default_library()                 # or site_library([site_dir])
    template = library.select(study)            # by procedure code, else modality + body part
    library.explain(study)                      # which rule picked which template, or why none
    text = render_technique(template, study)    # the technique paragraph, placeholders filled
    key = route_sentence(template, sentence)    # the findings subsection a sentence goes to

The modules behind it, one concern each:

- :mod:`~reportdraft.templates.library`: loading directories (later ones override by id),
  lookup by id and selection by study;
- :mod:`~reportdraft.templates.validation`: the checks pydantic cannot express, and reading
  one file with every error naming it;
- :mod:`~reportdraft.templates.technique`: the technique placeholders and their text;
- :mod:`~reportdraft.templates.routing`: which findings subsection a sentence belongs to;
- :mod:`~reportdraft.templates.procedure_codes`: one key per procedure code, whatever the
  feed's spelling of the code system.
"""

from reportdraft.templates.library import (
    Selection,
    TemplateLibrary,
    default_library,
    site_library,
)
from reportdraft.templates.routing import catch_all_key, route_sentence
from reportdraft.templates.technique import PLACEHOLDERS, render_technique, technique_values
from reportdraft.templates.validation import check_template

__all__ = [
    "PLACEHOLDERS",
    "Selection",
    "TemplateLibrary",
    "catch_all_key",
    "check_template",
    "default_library",
    "render_technique",
    "route_sentence",
    "site_library",
    "technique_values",
]
