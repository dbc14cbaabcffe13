"""Bad input on every ``warehouse`` subcommand: one stderr line, exit 2, no traceback.

Each row is a command a user could mistype, with a fragment the single error
line must contain.
Commands run in-process through `warehouse.cli.main` for speed.
"""

from __future__ import annotations

import logging
import shlex
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from warehouse.cli import main
from warehouse.cli.commands.serve import INSECURE_WARNING
from wms.ledger import Ledger

REPO = Path(__file__).resolve().parents[2]
DEFAULT = (REPO / "configs" / "default.toml").read_text()
POLICY = (REPO / "configs" / "returns_policy.toml").read_text()
RETURNS_HEADER = "return_id,sku,reason,packaging,cosmetic,functional,missing_parts,qty\n"
ORDERS_HEADER = "order_id,sku,qty,due,priority\n"
OK_MAP = "type octile\nheight 4\nwidth 4\nmap\n....\n.TT.\n....\n....\n"


def config(old: str, new: str) -> str:
    """The default config with one line changed (the change must apply)."""
    assert old in DEFAULT, old
    return DEFAULT.replace(old, new, 1)


FILES: dict[str, str | bytes] = {
    "scenario_bad_robot.toml": (
        '[scenario]\nconfig = "REPO/configs/default.toml"\nmax_sim_s = 100\n'
        "[robots]\namr = 2\n[[faults]]\nat_s = 5\nkind = 'breakdown'\nrobot = 7\n"
    ).replace("REPO", str(REPO)),
    "scenario_bad_kind.toml": (
        '[scenario]\nconfig = "REPO/configs/default.toml"\nmax_sim_s = 100\n'
        "[robots]\namr = 2\n[[faults]]\nat_s = 5\nkind = 'earthquake'\n"
    ).replace("REPO", str(REPO)),
    "scenario_off_floor.toml": (
        '[scenario]\nconfig = "REPO/configs/default.toml"\nmax_sim_s = 100\n'
        "[robots]\namr = 2\n[[faults]]\nat_s = 5\nkind = 'block'\ncells = [[500, 5]]\n"
    ).replace("REPO", str(REPO)),
    "garbage.bin": bytes(range(256)) * 8,
    "empty.txt": "",
    "nonutf8.toml": b"\xff\xfe\x00[floor]",
    "broken.toml": "[floor\nname=",
    "big_field.csv": "x" * 200_000 + "\n",
    "ok.map": OK_MAP,
    "wide.map": "type octile\nheight 2\nwidth 2\nmap\n...\n..\n",
    "bad_header.csv": "a,b\n1,2\n",
    "unknown_section.toml": DEFAULT + "\n[extra]\na = 1\n",
    "unknown_floor_key.toml": config("cell_size_m = 1.0", "cell_size_m = 1.0\nbogus = 1"),
    "unknown_layout_key.toml": config("docks = 3", "docks = 3\nbogus = 1"),
    "unknown_zone_key.toml": config('kind = "charging"', 'kind = "charging"\nbogus = 1'),
    "unknown_zone_kind.toml": config('kind = "charging"', 'kind = "lava"'),
    "unknown_orders_key.toml": config("[wms.orders]\n", "[wms.orders]\nbogus = 1\n"),
    "unknown_slotting_key.toml": config("[wms.slotting]\n", "[wms.slotting]\nbogus = 1\n"),
    "unknown_picking_key.toml": config("[wms.picking]\n", "[wms.picking]\nbogus = 1\n"),
    "unknown_wms_table.toml": DEFAULT + "\n[wms.bogus]\na = 1\n",
    "unknown_ledger_key.toml": DEFAULT + "\n[wms.ledger]\nbogus = 1\n",
    "unknown_replenishment_key.toml": DEFAULT + "\n[wms.replenishment]\nbogus = 1\n",
    "unknown_bus_key.toml": config("[bus]\n", "[bus]\nbogus = 1\n"),
    "layout_string.toml": config("blocks_x = 3", 'blocks_x = "three"'),
    "layout_zero.toml": config("rack_length = 10", "rack_length = 0"),
    "layout_huge.toml": config("blocks_x = 3", "blocks_x = 1000"),
    "cell_nan.toml": config("cell_size_m = 1.0", "cell_size_m = nan"),
    "cell_inf.toml": config("cell_size_m = 1.0", "cell_size_m = inf"),
    "bus_tiny_messages.toml": config("max_message_bytes = 262144", "max_message_bytes = 1"),
    "bus_nan.toml": config("reject_log_interval_s = 60.0", "reject_log_interval_s = nan"),
    "map_rack_terrain.toml": '[floor]\n[floor.map]\nfile = "ok.map"\nrack_terrain = ""\n',
    "map_rack_unicode.toml": '[floor]\n[floor.map]\nfile = "ok.map"\nrack_terrain = "é"\n',
    "map_station_outside.toml": '[floor]\n[floor.map]\nfile = "ok.map"\nstations = [[9, 9]]\n',
    "replenishment_alpha.toml": DEFAULT + "\n[wms.replenishment]\nalpha = 2.0\n",
    "replenishment_history.toml": DEFAULT + "\n[wms.replenishment]\nhistory_days = 1000000000\n",
    "ledger_url_int.toml": DEFAULT + "\n[wms.ledger]\nurl = 3\n",
    "ledger_url_scheme.toml": DEFAULT + '\n[wms.ledger]\nurl = "mysql://x/y"\n',
    "policy_unknown.toml": POLICY + "\n[bogus]\na = 1\n",
    "policy_nan.toml": POLICY.replace("handling = 1.50", "handling = nan"),
    "policy_grade.toml": POLICY.replace('as_new = "NEW"', 'as_new = "SHINY"'),
    "demand_negative.csv": "sku,qty\nSKU-0001,-5\n",
    "demand_text.csv": "sku,qty\nSKU-0001,x\n",
    "demand_unknown.csv": "sku,qty\nNOPE,5\n",
    "returns_reason.csv": RETURNS_HEADER + "R1,SKU-0001,bogus,intact,as_new,pass,0,1\n",
    "returns_qty.csv": RETURNS_HEADER + "R1,SKU-0001,defective,intact,as_new,pass,0,-1\n",
    "returns_unknown_sku.csv": RETURNS_HEADER + "R1,NOPE,defective,intact,as_new,pass,0,1\n",
    "returns_nan_price.csv": "return_id,sku,reason,packaging,cosmetic,functional,category,"
    "new_price\nR1,S,defective,intact,as_new,pass,books,nan\n",
    "orders_nan.csv": ORDERS_HEADER + "A,SKU-0007,nan,2026-01-05 11:00,same_day\n",
}


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder of bad inputs, a seeded ledger ``ledger.db`` and a foreign SQLite file."""
    root = tmp_path_factory.mktemp("bad")
    for name, content in FILES.items():
        path = root / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    (root / "folder").mkdir()
    with sqlite3.connect(root / "foreign.db") as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (1)")
    conn.close()
    assert main(["stock", "--seed-demo", "--db", str(root / "ledger.db"), "--json"]) == 0
    yield root


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """Exit code and non-empty stderr lines of one in-process run.

    ``serve`` installs signal handlers and a logging handler for the whole
    process; they are put back afterwards so one case cannot leak into the next.
    """
    handlers = {
        sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    root = logging.getLogger()
    log_handlers, log_level = list(root.handlers), root.level
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse usage errors
        code = int(stop.code or 0)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        root.handlers[:], root.level = log_handlers, log_level
    err = capsys.readouterr().err.splitlines()
    # --insecure's warning precedes a bind error (the sockets are bound as the server runs).
    lines = [line for line in err if line.strip() and line != INSECURE_WARNING]
    return code, lines


# (command line with {d} for the bad-input folder, fragment of the one error line)
CASES = [
    # -- config files: every section, every kind of broken file
    ("floor info --config {d}/missing.toml", "file not found"),
    ("floor info --config {d}/folder", "{d}/folder"),
    ("floor info --config {d}/garbage.bin", "not UTF-8"),
    ("floor info --config {d}/nonutf8.toml", "not UTF-8"),
    ("floor info --config {d}/empty.txt", "empty.txt: floor: section is required"),
    ("floor info --config /dev/zero", "larger than 16 MiB"),
    ("floor info --config {d}/broken.toml", "not valid TOML"),
    ("floor info --config {d}/unknown_section.toml", "extra: unknown section"),
    ("floor info --config {d}/unknown_floor_key.toml", "floor.bogus: unknown key"),
    ("floor info --config {d}/unknown_layout_key.toml", "floor.layout.bogus"),
    ("floor info --config {d}/unknown_zone_key.toml", "bogus"),
    ("floor info --config {d}/unknown_zone_kind.toml", "lava"),
    ("floor info --config {d}/unknown_orders_key.toml", "orders.bogus"),
    ("floor info --config {d}/unknown_slotting_key.toml", "slotting.bogus"),
    ("floor info --config {d}/unknown_picking_key.toml", "picking.bogus"),
    ("floor info --config {d}/unknown_wms_table.toml", "wms.bogus"),
    ("floor info --config {d}/unknown_ledger_key.toml", "ledger.bogus"),
    ("floor info --config {d}/unknown_replenishment_key.toml", "replenishment.bogus"),
    ("floor info --config {d}/unknown_bus_key.toml", "bus.bogus"),
    ("floor info --config {d}/layout_string.toml", "blocks_x: must be an integer"),
    ("floor info --config {d}/layout_zero.toml", "rack_length"),
    ("floor info --config {d}/layout_huge.toml", "at most 10000 a side"),
    ("floor info --config {d}/cell_nan.toml", "cell_size_m: must be a finite number"),
    ("floor info --config {d}/cell_inf.toml", "cell_size_m: must be a finite number"),
    ("floor info --config {d}/bus_tiny_messages.toml", "max_message_bytes: 1 is outside"),
    ("floor info --config {d}/bus_nan.toml", "reject_log_interval_s: must be a finite"),
    ("floor info --config {d}/map_rack_terrain.toml", "rack_terrain"),
    ("floor info --config {d}/map_rack_unicode.toml", "rack_terrain"),
    ("floor info --config {d}/map_station_outside.toml", "stations[0]"),
    ("slot --config {d}/unknown_bus_key.toml", "bus.bogus"),
    ("wave --config {d}/garbage.bin", "not UTF-8"),
    ("demo --config {d}/unknown_ledger_key.toml", "ledger.bogus"),
    ("serve --insecure --config {d}/unknown_bus_key.toml", "bus.bogus"),
    # -- map files
    ("floor info --map {d}/folder", "{d}/folder"),
    ("floor info --map {d}/garbage.bin", "non-ASCII"),
    ("floor info --map {d}/empty.txt", "missing 'map' line"),
    ("floor info --map /dev/zero", "not an input file"),
    ("floor info --map {d}/wide.map", "header says width 2"),
    ("bench floor --map {d}/folder", "{d}/folder"),
    # -- argparse: one line, not a usage dump
    ("floor info --samples 0", "--samples: 0 must be positive"),
    ("floor info --seed -1", "--seed: -1 must be at least 0"),
    ("bench floor --seed -1", "--seed: -1 must be at least 0"),
    ("floor generate --docks x --out {d}/out/g.map", "--docks: invalid int value"),
    ("floor", "required: ACTION"),
    ("bench", "required: BENCH"),
    ("nonexistent", "invalid choice"),
    # -- output paths
    ("floor render --out /proc/x.png", "--out: cannot write /proc/x.png"),
    ("floor render --out {d}/folder", "is a folder"),
    ("floor render --out {d}/garbage.bin/x.png", "cannot create folder"),
    ("floor render --out ''", "--out: empty file name"),
    ("floor render --out {d}/out/s.png --scale 100000", "--scale: 100000 is outside 1..64"),
    ("floor render --map {d}/ok.map --out {d}/out/s.png --scale 0", "--scale: 0 is outside"),
    ("floor generate --out /proc/x.map", "--out: cannot write /proc/x.map"),
    ("floor generate --out {d}/folder", "is a folder"),
    ("floor generate --out {d}/out/g.map --config-out /proc/x.toml", "--config-out"),
    ("floor generate --out {d}/out/g.map --blocks-x 0", "blocks_x: 0 is outside 1..1000"),
    ("floor generate --out {d}/out/g.map --blocks-x 1000 --rack-pairs 1000", "at most"),
    ("demo --out /proc/x", "/proc/x"),
    ("demo --out {d}/garbage.bin", "garbage.bin"),
    # -- ledger databases: never created or altered by a wrong --db
    ("stock --db {d}/missing.db", "no ledger database there"),
    ("stock --db mysql://x/y", "unsupported database scheme"),
    ("stock --db postgresql://nohost.invalid/y", "cannot connect"),
    ("stock --db sqlite:///", "no file path"),
    ("stock --db ''", "database URL: is empty"),
    ("stock --db {d}/folder", "is a folder"),
    ("stock --db {d}/garbage.bin", "not a ledger database"),
    ("stock --db {d}/empty.txt", "not a ledger database"),
    ("stock --db {d}/bad_header.csv", "not a ledger database"),
    ("stock --db {d}/foreign.db", "not a ledger database"),
    ("stock --db :memory:", "not a ledger database"),
    ("stock --seed-demo --db {d}/foreign.db", "not a ledger database"),
    ("stock --seed-demo --db {d}/ledger.db", "is not empty"),
    ("stock --seed-demo --db {d}/garbage.bin/x.db", "cannot create folder"),
    ("stock --db {d}/ledger.db --sku NOPE", "not in the ledger"),
    ("db copy --from {d}/missing.db --to {d}/copy.db", "no database file there"),
    ("db copy --from {d}/foreign.db --to {d}/copy.db", "not a ledger database"),
    ("db copy --from {d}/garbage.bin --to {d}/copy.db", "not a ledger database"),
    ("db copy --from {d}/folder --to {d}/copy.db", "is a folder"),
    ("db copy --from mysql://x/y --to {d}/copy.db", "unsupported database scheme"),
    ("db copy --from {d}/ledger.db --to {d}/ledger.db", "is not empty"),
    ("db copy --from {d}/ledger.db --to {d}/foreign.db", "is not empty"),
    ("db copy --from {d}/ledger.db --to {d}/garbage.bin", "not a ledger database"),
    ("db copy --from {d}/ledger.db --to :memory:", "cannot be copied"),
    ("db copy --from {d}/ledger.db --to postgresql://nohost.invalid/y", "cannot connect"),
    ("db copy --from {d}/ledger.db", "--to"),
    ("db check --db {d}/missing.db", "no database file there"),
    ("db check --db {d}/foreign.db", "not a ledger database"),
    ("db check --db {d}/garbage.bin", "not a ledger database"),
    ("db check --db {d}/folder", "is a folder"),
    ("db check --db :memory:", "holds no site to check"),
    ("db check --db mysql://x/y", "unsupported database scheme"),
    ("db check --db postgresql://nohost.invalid/y", "cannot connect"),
    ("db check --db {d}/ledger.db --older-than soon", "not a number of seconds"),
    ("db check", "--db"),
    ("stock --config {d}/ledger_url_int.toml", "url"),
    ("ageing --config {d}/ledger_url_scheme.toml", "unsupported database scheme"),
    ("replenish --db {d}/garbage.bin", "not a ledger database"),
    (
        "replenish --config {d}/replenishment_alpha.toml",
        f"replenishment_alpha.toml: line {DEFAULT.count(chr(10)) + 3}: wms.replenishment.alpha: "
        "must be in 0..1",
    ),
    ("replenish --config {d}/replenishment_history.toml", "history_days: must be in 1..3650"),
    ("ageing --db {d}/ledger.db --window-days 99999999999999999999", "--window-days"),
    ("ageing --db {d}/ledger.db --no-sale-days 0", "--no-sale-days"),
    # -- CSV inputs of the ledger commands
    ("replenish --db {d}/ledger.db --demand {d}/missing.csv", "file not found"),
    ("replenish --db {d}/ledger.db --demand {d}/folder", "is a folder"),
    ("replenish --db {d}/ledger.db --demand {d}/garbage.bin", "not a UTF-8"),
    ("replenish --db {d}/ledger.db --demand {d}/big_field.csv", "not readable as CSV"),
    ("replenish --db {d}/ledger.db --demand {d}/bad_header.csv", "header must be"),
    ("replenish --db {d}/ledger.db --demand {d}/demand_negative.csv", "column qty"),
    ("replenish --db {d}/ledger.db --demand {d}/demand_text.csv", "not a whole number"),
    (
        "replenish --db {d}/ledger.db --demand {d}/demand_unknown.csv",
        "demand_unknown.csv: sku 'NOPE'",
    ),
    ("returns --db {d}/ledger.db --input {d}/garbage.bin", "not a UTF-8"),
    ("returns --db {d}/ledger.db --input {d}/big_field.csv", "not readable as CSV"),
    ("returns --db {d}/ledger.db --input {d}/empty.txt", "empty file"),
    ("returns --db {d}/ledger.db --input {d}/bad_header.csv", "unknown column"),
    ("returns --db {d}/ledger.db --input {d}/returns_reason.csv", "bogus"),
    ("returns --db {d}/ledger.db --input {d}/returns_qty.csv", "qty"),
    ("returns --db {d}/ledger.db --input {d}/returns_unknown_sku.csv", "NOPE"),
    ("returns --no-ledger --input {d}/returns_nan_price.csv", "new_price"),
    ("returns --no-ledger --db {d}/ledger.db --input {d}/returns_reason.csv", "--no-ledger"),
    ("returns --no-ledger --input {d}/returns_reason.csv --policy {d}/garbage.bin", "not UTF-8"),
    (
        "returns --no-ledger --input {d}/returns_reason.csv --policy {d}/policy_unknown.toml",
        "bogus",
    ),
    ("returns --no-ledger --input {d}/returns_reason.csv --policy {d}/policy_nan.toml", "finite"),
    ("returns --no-ledger --input {d}/returns_reason.csv --policy {d}/policy_grade.toml", "SHINY"),
    # -- bus: keys, serve, bench bus
    ("keys generate --dir ''", "--dir: empty folder name"),
    ("keys generate --dir {d}/garbage.bin", "garbage.bin"),
    ("keys generate --dir {d}/out/k --robots -1", "--robots: -1 is outside"),
    ("keys generate --dir {d}/out/k --robots 100000000", "--robots"),
    ("keys generate --dir {d}/out/k --robot noslash", "manufacturer/serialNumber"),
    ("keys generate --dir {d}/out/k --robot 'a b/c'", "identities may use"),
    ("serve --insecure --bind nonsense", "cannot bind"),
    ("serve --insecure --bind tcp://127.0.0.1:99999", "port '99999'"),
    ("serve --insecure --bind tcp://127.0.0.1:x", "port 'x'"),
    ("serve --insecure --bind tcp://999.1.1.1:5555", "cannot bind"),
    ("serve --keys {d}/missing", "{d}/missing"),
    ("serve --keys {d}/garbage.bin", "garbage.bin"),
    ("serve", "--keys"),
    ("serve --insecure --ctl nonsense", "cannot bind"),
    ("serve --insecure --ctl tcp://127.0.0.1:99999", "port '99999'"),
    ("keys generate --dir {d}/out/k --operator 'a b'", "identities may use"),
    # -- ctl: every argument is checked before anything is sent
    ("ctl robots list", "--connect"),
    ("ctl --connect nonsense robots list", "nonsense: cannot connect"),
    ("ctl --connect tcp://127.0.0.1:1 --timeout 0.2 robots list", "no answer within 0.2 s"),
    ("ctl --connect tcp://127.0.0.1:1 --timeout 0 robots list", "--timeout"),
    ("ctl --connect tcp://127.0.0.1:1 tasks", "required: ACTION"),
    ("ctl --connect tcp://127.0.0.1:1 tasks add --kind move", "--to"),
    ("ctl --connect tcp://127.0.0.1:1 tasks add --kind fly --to 1,1", "invalid choice"),
    ("ctl --connect tcp://127.0.0.1:1 tasks add --kind move --to 1", "'1' is not ROW,COL"),
    ("ctl --connect tcp://127.0.0.1:1 tasks add --kind move --to -1,2", "--to"),
    ("ctl --connect tcp://127.0.0.1:1 tasks add --kind move --stops '1,1;2,2'", "exactly one"),
    ("ctl --connect tcp://127.0.0.1:1 tasks add --kind pick_route --stops ';'", "--stops"),
    ("ctl --connect tcp://127.0.0.1:1 tasks add --kind move --to 1,1 --priority x", "--priority"),
    ("ctl --connect tcp://127.0.0.1:1 tasks add --kind move --to 1,1 --robot 'a b'", "robot:"),
    ("ctl --connect tcp://127.0.0.1:1 tasks priority T1 high", "'high' is not an integer"),
    ("ctl --connect tcp://127.0.0.1:1 pause", "give one robot id or --all"),
    ("ctl --connect tcp://127.0.0.1:1 pause acme/r1 --all", "give one robot id or --all"),
    ("ctl --connect tcp://127.0.0.1:1 drain", "required: ROBOT"),
    ("ctl --connect tcp://127.0.0.1:1 --keys {d}/missing --operator al estop", "al.key_secret"),
    ("ctl --connect tcp://127.0.0.1:1 --keys {d}/folder estop", "--operator"),
    # -- view: a read-only viewer of a running fleet
    ("view", "--connect"),
    ("view --connect nonsense", "nonsense: cannot connect"),
    ("view --connect tcp://127.0.0.1:1 --timeout 0.2 --screenshot {d}/out/v.png", "no fleet"),
    ("view --connect tcp://127.0.0.1:1 --timeout 0", "--timeout"),
    ("view --connect tcp://127.0.0.1:1 --timeout nan", "--timeout"),
    ("view --connect tcp://127.0.0.1:1 --frames 0", "--frames: 0 is outside"),
    ("view --connect tcp://127.0.0.1:1 --keys {d}/folder", "--viewer"),
    ("view --connect tcp://127.0.0.1:1 --keys {d}/missing --viewer v", "v.key_secret"),
    ("view --connect tcp://127.0.0.1:1 --screenshot {d}/folder", "--screenshot"),
    ("view --connect tcp://127.0.0.1:1 --config {d}/broken.toml", "not valid TOML"),
    ("bench bus --robots 100000", "--robots: 100000 is outside 1..1000"),
    ("bench bus --rate nan", "--rate"),
    ("bench bus --rate 1e-9", "--rate"),
    ("bench bus --seconds inf", "--seconds"),
    ("bench bus --order-rate -1", "--order-rate"),
    ("bench ledger --history 99999999999", "--history"),
    ("bench ledger --ops 0", "--ops"),
    ("bench viewer --robots 0", "--robots: 0 is outside"),
    ("bench viewer --frames x", "--frames"),
    # -- planning and traffic
    ("slot --orders {d}/orders_nan.csv", "quantity 'nan'"),
    ("wave --orders {d}/orders_nan.csv", "quantity 'nan'"),
    ("slot --count 20 --current {d}/garbage.bin", "garbage.bin"),
    ("slot --count 10 --seed -5", "--seed"),
    ("wave --count 10 --seed -5", "--seed"),
    ("slot --count 10000000", "--count"),
    ("wave --count 10000000", "--count"),
    ("slot --orders /dev/zero", "/dev/zero"),
    ("slot --count 10 --current /dev/zero", "/dev/zero"),
    ("bench mapf --instance /dev/zero --steps 5", "/dev/zero"),
    ("bench mapf --map {d}/ok.map --agents 2 --steps 100000000", "--steps"),
    ("bench picking --gls-ms -1 --count 20", "--gls-ms"),
    ("demo --robots 0", "--robots"),
    ("demo --scenario {d}/scenario_bad_robot.toml", "line 9"),
    ("demo --scenario {d}/scenario_bad_kind.toml", "earthquake"),
    ("demo --scenario {d}/scenario_off_floor.toml", "scenario_off_floor.toml"),
    ("demo --scenario {d}/missing.toml", "missing.toml"),
    ("demo --orders {d}/orders_nan.csv --robots 2", "quantity 'nan'"),
    ("whatif --robots 0,5", "--robots"),
    ("whatif --robots ten", "--robots"),
    ("whatif --robots 5000", "do not fit"),
    ("whatif --robots 2 --scenario {d}/scenario_bad_kind.toml", "earthquake"),
    ("sim --connect bogus", "--connect"),
    ("sim --connect tcp://127.0.0.1:1 --robots 5000", "do not fit"),
    ("bench sim --robots 0", "--robots"),
    ("bench mapf --map {d}/folder --agents 2 --steps 10", "{d}/folder"),
    ("bench mapf --map {d}/ok.map --agents 0 --steps 10", "--agents"),
    ("bench mapf --instance {d}/garbage.bin --steps 10", "garbage.bin"),
    ("bench picking --orders {d}/folder", "{d}/folder"),
]


@pytest.mark.parametrize(("command", "fragment"), CASES)
def test_bad_input_is_one_line_and_exit_2(
    command: str, fragment: str, bad: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bad command exits 2 with one stderr line naming the problem, never a traceback."""
    argv = shlex.split(command.format(d=bad))
    code, lines = run(argv, capsys)
    assert code == 2, lines
    assert len(lines) == 1, lines
    assert fragment.format(d=bad) in lines[0], lines[0]


def dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        rows = list(conn.iterdump())
    conn.close()
    return rows


def test_refused_commands_leave_stored_data_as_it_was(
    bad: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused ledger commands change neither the ledger nor a foreign SQLite file."""
    ledger, foreign = bad / "ledger.db", bad / "foreign.db"
    before, foreign_bytes = dump(ledger), foreign.read_bytes()
    for command in (
        f"returns --db {ledger} --input {bad}/returns_unknown_sku.csv",
        f"replenish --db {ledger} --demand {bad}/demand_text.csv",
        f"stock --seed-demo --db {ledger}",
        f"stock --db {foreign}",
        f"returns --db {foreign} --input {bad}/returns_reason.csv",
        f"db copy --from {foreign} --to {ledger}",
        f"db copy --from {ledger} --to {foreign}",
        f"db check --db {foreign}",
    ):
        code, _ = run(command.split(), capsys)
        assert code == 2, command
    assert dump(ledger) == before
    assert foreign.read_bytes() == foreign_bytes
    with Ledger.open(str(ledger), must_exist=True) as opened:
        assert opened.balance_check().ok


def test_generated_config_escapes_the_floor_name(
    bad: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """floor generate --config-out writes valid TOML whatever the floor name holds."""
    name = 'odd "name" \\ with\nnewline'
    out, config_out = bad / "out" / "named.map", bad / "out" / "named.toml"
    argv = ["floor", "generate", "--out", str(out), "--config-out", str(config_out)]
    assert run([*argv, "--name", name], capsys)[0] == 0
    assert run(["floor", "info", "--config", str(config_out), "--samples", "1"], capsys)[0] == 0


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    """Every command and subcommand answers --help with exit 0."""
    for command in [
        "",
        "demo",
        "floor",
        "floor info",
        "floor generate",
        "floor render",
        "slot",
        "wave",
        "stock",
        "returns",
        "replenish",
        "ageing",
        "keys",
        "keys generate",
        "db",
        "db copy",
        "db check",
        "serve",
        "bench",
        "bench floor",
        "bench picking",
        "bench ledger",
        "bench bus",
        "bench mapf",
        "bench viewer",
        "view",
    ]:
        code, _ = run([*command.split(), "--help"], capsys)
        assert code == 0, command
