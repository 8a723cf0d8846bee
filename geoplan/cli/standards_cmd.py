"""``geoplan standards``: list the standards catalog with its sources."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``standards`` command."""
    parser = sub.add_parser(
        "standards", help="list the service-radius standards catalog with sources",
        description="List every standard geoplan can check: id, Chinese and English name, "
        "facilities, demand, radius, target and the policy document and clause it comes from. "
        "Analysis configs choose standards by id (standards: [...]) and may override any field.",
    )
    parser.add_argument("config", nargs="?", metavar="CONFIG",
                        help="an analysis config: list its standards, overrides and custom "
                        "entries included (default: the shipped catalog)")
    parser.add_argument("--pack", metavar="PACK",
                        help="list a pack's standards with its targets and target years (with "
                        "CONFIG: the config's standards under that pack)")
    parser.add_argument("--packs", action="store_true",
                        help="list the packs and the source documents in full instead")
    parser.add_argument("--csv", metavar="FILE", help="also write the table as CSV (UTF-8 BOM)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``geoplan standards``."""
    from geoplan.standards import catalog_table, resolve_standards

    if getattr(args, "packs", False):
        return _list_packs()
    if getattr(args, "config", None):
        from geoplan.config import load_config
        from geoplan.standards import check_config_standards

        config = load_config(args.config, check_files=False)
        if getattr(args, "pack", None):  # the config's standards with that pack's targets
            config = config.model_copy(update={"pack": args.pack})
        table = catalog_table({s.id: s for s in check_config_standards(config)})
    else:
        table = catalog_table({s.id: s for s in resolve_standards(
            None, pack=getattr(args, "pack", None))})
    for row in table.to_dict("records"):
        year = f" by {row['year']}" if row["year"] != "" else ""
        pack = f" [{row['pack']}]" if row["pack"] else ""
        radius = row["radius_m"]
        radius_text = f"{radius:g}" if isinstance(radius, float) else str(radius)
        note = f" ({row['radius_note']})" if row["radius_note"] else ""
        print(f"{row['id']}  {row['name_zh']} ({row['name_en']})")
        print(f"    {row['facility']}; {row['demand']}; {radius_text} m{note}; "
              f"target {row['target']:.0%}{year}{pack}")
        for src in str(row["source"]).split("；"):
            print(f"    source: {src}")
    print(f"\n{len(table)} standards. Choose them by id in a config (standards: [...]) or with "
          "--standards id1,id2; override any field with {id: ..., radius_m: ...}.")
    if getattr(args, "csv", None):
        from geoplan._io import check_output_file, write_csv

        path = write_csv(table, check_output_file(args.csv, "--csv"))
        print(f"wrote {path}")
    return 0


def _list_packs() -> int:
    from geoplan.standards import documents, packs

    for p in packs().values():
        inc = f" (includes {', '.join(p.include)})" if p.include else ""
        print(f"{p.id}: {p.name_zh} / {p.name_en}{inc}")
        for sid, t in p.targets.items():
            year = f" by {t.year}" if t.year else ""
            print(f"    {sid}: {t.target:.0%}{year}  {t.clause}".rstrip())
        if p.note:
            print(f"    note: {p.note}")
    print("\nDocuments:")
    for d in documents().values():
        print(f"{d.id}: {d.full_title}" + (f"  [issuer: {d.issuer}]" if d.issuer.startswith("not")
                                            else ""))
    print("\nChoose a pack in a config with `pack: <id>`.")
    return 0


__all__ = ["register", "run"]
