"""How components depend on each other in the code (not in the history).

Definitions (Robert C. Martin, *Agile Software Development*, 2002), over
production code only:

* a component *depends on* another when one of its files imports a module of
  it or has a cross-component call site into it (tests are ignored);
* afferent coupling Ca = number of other components that depend on it,
  efferent coupling Ce = number of other components it depends on,
  instability I = Ce / (Ca + Ce) (0 for an isolated component);
* cohesion = the share of the component's references that stay inside it,
  where references are import statements naming a repository module plus
  call/subclass references resolved through imports (``call_sites`` for the
  crossing ones, ``Structure.internal_references`` for the rest). Calls to a
  name defined in the same file are not references.

:func:`seam_table` lists every seam (ordered component pair) with how many
import statements and call sites cross it, and how many unresolved calls
(:mod:`toolkit.load.python_ast`) might: a seam with imports and no call site is
import only, unless its unresolved calls say the calls just could not be named.
"""
from __future__ import annotations

import pandas as pd

from toolkit.vocab import schema
from toolkit.vocab.components import seam_name
from toolkit.load.structure import Structure


def _production_imports(structure: Structure) -> pd.DataFrame:
    imp = structure.imports
    return imp[imp.component.notna() & imp.target_component.notna()]


def structural_coupling(structure: Structure) -> pd.DataFrame:
    """Ca, Ce, instability and cohesion per component (schema ``structural_coupling``), sorted by component."""
    imp = _production_imports(structure)
    cs = structure.call_sites
    edges = set(zip(imp.component, imp.target_component)) | set(zip(cs.caller_component, cs.callee_component))
    edges = {(a, b) for a, b in edges if a != b}
    rows = []
    stmts = imp.drop_duplicates(["path", "line", "target_component"])
    for comp in structure.components.names:
        ca = len({a for a, b in edges if b == comp})
        ce = len({b for a, b in edges if a == comp})
        own = stmts[stmts.component == comp]
        inside = int((own.target_component == comp).sum()) + int(structure.internal_references.get(comp, 0))
        total = len(own) + int(structure.internal_references.get(comp, 0)) + int((cs.caller_component == comp).sum())
        rows.append((comp, ca, ce, ce / (ca + ce) if ca + ce else 0.0, inside / total if total else float("nan")))
    out = pd.DataFrame(rows, columns=schema.columns("structural_coupling"))
    return schema.conform(out, "structural_coupling")


def _unresolved_per_seam(structure: Structure, crossing_imports: pd.DataFrame) -> dict[tuple[str, str], int]:
    """(caller, callee) -> unresolved attribute calls in the caller's files that import the callee at run time
    and name a function or method the callee defines (schema ``seams``, column ``unresolved_calls``)."""
    un = structure.unresolved_calls
    if un.empty or not structure.functions:
        return {}
    un = un[un["name"].notna()]
    per_file: dict[str, list[tuple[str, int]]] = {}
    for path, name, n in zip(un["path"].astype(object), un["name"].astype(object), un["calls"]):
        per_file.setdefault(path, []).append((name, int(n)))
    runtime = crossing_imports[~crossing_imports.is_type_checking].drop_duplicates(
        ["path", "component", "target_component"])
    out: dict[tuple[str, str], int] = {}
    for path, a, b in zip(runtime.path.astype(object), runtime.component.astype(object),
                          runtime.target_component.astype(object)):
        names = structure.functions.get(b, frozenset())
        n = sum(k for name, k in per_file.get(path, ()) if name in names)
        if n:
            out[(a, b)] = out.get((a, b), 0) + n
    return out


def seam_table(structure: Structure) -> pd.DataFrame:
    """One row per seam that an import statement or a call site crosses (schema ``seams``), sorted by seam."""
    imp = _production_imports(structure)
    imp = imp[imp.component != imp.target_component]
    stmts = imp.drop_duplicates(["path", "line", "target_component"])
    stmt_counts = stmts.groupby(["component", "target_component"]).size()
    tc_counts = stmts[stmts.is_type_checking].groupby(["component", "target_component"]).size()
    cs = structure.call_sites
    site_counts = cs.groupby(["caller_component", "callee_component"]).size()
    callee_counts = cs.groupby(["caller_component", "callee_component"]).callee.nunique()
    pairs = sorted(set(stmt_counts.index) | set(site_counts.index))
    unresolved = _unresolved_per_seam(structure, imp)
    rows = [(seam_name(a, b), a, b, int(stmt_counts.get((a, b), 0)), int(site_counts.get((a, b), 0)),
             int(callee_counts.get((a, b), 0)), unresolved.get((a, b), 0), int(tc_counts.get((a, b), 0)))
            for a, b in pairs]
    out = pd.DataFrame(rows, columns=schema.columns("seams"))
    return schema.conform(out, "seams").sort_values("seam", ignore_index=True)
