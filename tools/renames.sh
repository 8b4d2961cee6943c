#!/usr/bin/env bash
# Rename modules whose names mislead, and rewrite every reference to them.
#
# Replayable: run it from the repository root on any tree that still has the old names
# (`bash tools/renames.sh`); a rename whose old file is gone (already done) is skipped.
# Each rename is `git mv` plus sed over the tracked text files, for the dotted module name
# (`catalog.program`) and the path (`catalog/program.py`); \b keeps `catalog.program_checks` apart.
# Then the few prose mentions by bare module name in docs/architecture.md, the KPI kinds constant,
# and the import order ruff wants (the new names sort elsewhere).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"

text_files() {
    git ls-files -z -- '*.py' '*.md' '*.toml' '*.cfg' '*.ini' '*.txt' '*.html' '*.yaml' '*.yml' \
        '*.sh' 'Makefile' '.ci/*' ':!tools/renames.sh'
}

# rename OLD_DOTTED NEW_DOTTED: git mv the module's file, then rewrite dotted names and paths.
rename() {
    local old="$1" new="$2"
    local old_path="${old//.//}.py" new_path="${new//.//}.py"
    if [[ ! -e "$old_path" ]]; then
        echo "skip: $old_path is gone (already renamed?)"
        return
    fi
    git mv "$old_path" "$new_path"
    local old_re="${old//./\\.}" old_path_re="${old_path//./\\.}"
    text_files | xargs -0 sed -i -E \
        -e "s#\\b${old_re}\\b#${new}#g" \
        -e "s#\\b${old_path_re}\\b#${new_path}#g"
    # `from widgets import program_routes` and the module's uses (`program_routes.router`) there.
    local parent="${old%.*}" old_short="${old##*.}" new_short="${new##*.}"
    local parent_re="${parent//./\\.}"
    local importers
    importers=$(git grep -lE "^from ${parent_re} import .*\b${old_short}\b" -- '*.py' || true)
    for f in $importers; do
        sed -i -E -e "/^from ${parent_re} import /s/\b${old_short}\b/${new_short}/" \
            -e "s/\b${old_short}\./${new_short}./g" "$f"
    done
    echo "renamed: $old -> $new"
}

# socrata/core.py held the metadata half of the connector (describe, count, listing).
rename connectors.socrata.core connectors.socrata.describe
# Two "settings": the portal's (btvstat_open/settings.py) and catalog.yaml's keys.
rename catalog.models.settings catalog.models.catalog_yaml
# "program" in module names that each hold something else.
rename catalog.program catalog.program_document                      # the program as one JSON document
rename catalog.models.program catalog.models.tracking                # target history, notes, actions, ...
rename widgets.program widgets.overview                              # glance counts, goal tree, departments
rename widgets.program_pages widgets.dashboard_pages                 # the dashboard, goal and department pages
rename widgets.program_routes widgets.dashboard_routes               # their routes
rename btvstat_open.people.routes_program btvstat_open.people.routes_updates  # the Updates pages' routes

# The same modules named bare in docs/architecture.md's "What lives where".
sed -i -E \
    -e 's/the metadata half \(`core`, reading `metadata`\)/the metadata half (`describe`, reading `metadata`)/' \
    -e 's/`program` and `program_checks` \(the whole program\)/`program_document` and `program_checks` (the whole program)/' \
    -e 's/`kpi`, `settings` \(and the goal tree\), `program` \(the/`kpi`, `catalog_yaml` (and the goal tree), `tracking` (the/' \
    -e 's/`program_routes`, `pages`, `program_pages`/`dashboard_routes`, `pages`, `dashboard_pages`/' \
    -e 's/`progress_view` \(dated goals in words\), `program`,/`progress_view` (dated goals in words), `overview`,/' \
    docs/architecture.md

# Two KINDS constants: portal kinds (connectors.kinds) and KPI kinds, which become KPI_KINDS.
kpi_kinds_files=$(git grep -lE 'from catalog\.models(\.base)? import [^#]*\bKINDS\b' -- '*.py' || true)
if git grep -qE '^KINDS\b' -- catalog/models/base.py; then
    sed -i -E 's/\bKINDS\b/KPI_KINDS/g' catalog/models/base.py $kpi_kinds_files
    echo "renamed: catalog.models.KINDS -> KPI_KINDS"
fi

# Imports and __all__ sort by name: let ruff put them back in order.
RUFF="${RUFF:-$(command -v ruff || echo .venv/bin/ruff)}"
if [[ -x "$RUFF" ]]; then
    git ls-files -z -- '*.py' | xargs -0 "$RUFF" check --select I,RUF022 --fix --quiet || true
    git ls-files -z -- '*.py' | xargs -0 "$RUFF" format --quiet
fi
