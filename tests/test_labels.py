"""The analyst labels file: round trips, corruption → InputError naming the backup, crash safety."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from toolkit.vocab import schema
from toolkit.errors import InputError
from toolkit.load.labels import CATEGORIES, backup_path, read_labels, save_label, write_labels

ROOT = Path(__file__).resolve().parents[1]


def test_missing_file_is_empty_table(tmp_path):
    df = read_labels(tmp_path / "labels.csv")
    assert df.empty
    schema.check(df, "labels")


def test_save_read_round_trip_and_replace_in_place(tmp_path):
    p = tmp_path / "labels.csv"
    save_label(p, "PROJ-1", "integration", 'payments, "orders"\nsecond line', reviewer="ann")
    save_label(p, "PROJ-2", "component", reviewer="bob")
    save_label(p, "PROJ-1", "environment", "changed my mind", reviewer="ann")
    df = read_labels(p)
    schema.check(df, "labels")
    assert list(df["key"]) == ["PROJ-1", "PROJ-2"]
    assert list(df["category"]) == ["environment", "component"]
    assert df.loc[0, "note"] == "changed my mind"
    assert df["decided_at"].notna().all()
    assert p.read_text().splitlines()[0] == "key,category,note,decided_at,reviewer"
    # the previous good version is the backup
    bak = read_labels(backup_path(p))
    assert list(bak["category"]) == ["integration", "component"]
    assert bak.loc[0, "note"] == 'payments, "orders"\nsecond line'


def test_no_temp_files_left_behind(tmp_path):
    p = tmp_path / "labels.csv"
    for i in range(5):
        save_label(p, f"K-{i}", CATEGORIES[i % 4])
    assert sorted(x.name for x in tmp_path.iterdir()) == ["labels.csv", "labels.csv.bak", "labels.csv.lock"]


def test_write_labels_rejects_unknown_category(tmp_path):
    df = pd.DataFrame({"key": ["A"], "category": ["flaky"], "note": [""], "decided_at": [pd.NaT]})
    with pytest.raises(ValueError, match="flaky"):
        write_labels(tmp_path / "l.csv", df)
    assert not (tmp_path / "l.csv").exists()


def test_overlong_note_is_refused_before_writing(tmp_path):
    with pytest.raises(ValueError, match="note"):
        save_label(tmp_path / "l.csv", "A", "integration", "x" * 30_000)
    assert not (tmp_path / "l.csv").exists()


def test_hand_written_minimal_csv_and_json(tmp_path):
    p = tmp_path / "l.csv"
    p.write_text("key,category,note,decided_at\nA-1,integration,,\nA-2,not_a_bug,dup,2026-01-02\n")
    df = read_labels(p)
    assert list(df["category"]) == ["integration", "not_a_bug"]
    assert pd.isna(df.loc[0, "decided_at"]) and df.loc[1, "decided_at"].tzinfo is not None
    j = tmp_path / "l.json"
    j.write_text(json.dumps({"A-1": "component", "A-2": "environment"}))
    assert dict(zip(read_labels(j)["key"], read_labels(j)["category"])) == {"A-1": "component", "A-2": "environment"}


@pytest.mark.parametrize(
    "content, needle",
    [
        (b"id,label\nA,integration\n", "header"),
        (b"key,category,note,decided_at\nA,flaky,,\n", "unknown category 'flaky'"),
        (b"key,category,note,decided_at\nA,integration\n", "2 fields"),
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b'{"A": "integration",', "not valid JSON"),
        (b'{"A": "sometimes"}', "unknown category"),
        (b"key,category,note,decided_at\nA,integration," + b"x" * 200_000 + b",\n", "not valid CSV"),
    ],
)
def test_corrupted_file_names_backup_to_restore(tmp_path, content, needle):
    p = tmp_path / "labels.csv"
    save_label(p, "GOOD-1", "integration")
    save_label(p, "GOOD-2", "component")  # now labels.csv.bak exists
    p.write_bytes(content)
    with pytest.raises(InputError) as err:
        read_labels(p)
    msg = str(err.value)
    assert needle in msg and str(backup_path(p)) in msg and str(p) in msg
    # saving over a corrupted file refuses rather than losing it
    with pytest.raises(InputError):
        save_label(p, "NEW", "integration")
    assert p.read_bytes() == content
    # and the named backup is a good file
    assert list(read_labels(backup_path(p))["key"]) == ["GOOD-1"]


def _child(path: Path, start: int, n: int) -> list[str]:
    code = textwrap.dedent(
        f"""
        import sys
        from toolkit.load.labels import save_label
        for i in range({start}, {start + n}):
            save_label({str(path)!r}, f"K-{{i:04d}}", "integration", "x" * 2000)
            print(i, flush=True)
        """
    )
    return [sys.executable, "-c", code]


def test_kill_9_mid_writes_leaves_old_or_new_complete_file(tmp_path):
    """SIGKILL a writer at random moments: the file is always a complete, parseable version."""
    p = tmp_path / "labels.csv"
    rng = random.Random(7)
    done = 0
    for _round in range(4):
        proc = subprocess.Popen(_child(p, done, 400), cwd=ROOT, stdout=subprocess.PIPE, text=True)
        target = rng.randint(3, 25)
        seen = -1
        assert proc.stdout is not None
        while seen < done + target:
            line = proc.stdout.readline()
            assert line, "writer exited early"
            seen = int(line)
            # readers running concurrently never see a torn file
            df = read_labels(p)
            assert len(df) >= seen + 1
        time.sleep(rng.random() * 0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        df = read_labels(p)  # parses: old or new complete version
        keys = list(df["key"])
        # a prefix of the writes, each complete, including every write that had reported success
        assert keys == [f"K-{i:04d}" for i in range(len(keys))]
        assert len(keys) >= seen + 1
        assert (df["note"] == "x" * 2000).all()
        read_labels(backup_path(p))
        done = len(keys)


def test_decisions_survive_a_new_process(tmp_path):
    """A 'kernel restart': decisions made in one process are all read back in another."""
    p = tmp_path / "labels.csv"
    subprocess.run(_child(p, 0, 30), cwd=ROOT, check=True, capture_output=True)
    out = subprocess.run(
        [sys.executable, "-c", f"from toolkit.load.labels import read_labels; print(','.join(read_labels({str(p)!r})['key']))"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )
    assert out.stdout.strip().split(",") == [f"K-{i:04d}" for i in range(30)]


def test_analysts_saving_at_the_same_time_keep_every_decision(tmp_path):
    """Three processes save different bugs into one file at once: no decision is lost to a concurrent rewrite."""
    p = tmp_path / "labels.csv"
    procs = [subprocess.Popen(_child(p, start, 40), cwd=ROOT, stdout=subprocess.DEVNULL) for start in (0, 100, 200)]
    assert [proc.wait() for proc in procs] == [0, 0, 0]
    keys = set(read_labels(p)["key"])
    assert keys == {f"K-{i:04d}" for start in (0, 100, 200) for i in range(start, start + 40)}


@pytest.mark.parametrize("damage", [b"", b"\n  \n", b"key,category\n\x00\x00"])
def test_an_emptied_or_damaged_file_never_overwrites_the_good_backup(tmp_path, damage):
    path = tmp_path / "labels.csv"
    save_label(path, "A-1", "integration")
    save_label(path, "A-2", "component")  # now .bak holds A-1, the file
    good_bak = backup_path(path).read_bytes()
    path.write_bytes(damage)  # a crash or a full disk truncated it
    with pytest.raises(InputError) as info:
        save_label(path, "A-3", "environment")
    assert str(backup_path(path)) in str(info.value)  # says what to restore
    assert backup_path(path).read_bytes() == good_bak
    # a plain write (the widget's "save all") keeps the backup too
    write_labels(path, read_labels(backup_path(path)))
    assert backup_path(path).read_bytes() == good_bak
    assert set(read_labels(path)["key"]) == {"A-1"}


def test_an_empty_file_without_a_backup_is_nothing_decided(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_bytes(b"")
    assert read_labels(path).empty
    save_label(path, "A-1", "integration")
    assert not backup_path(path).exists()  # an empty file is no backup worth keeping
    assert list(read_labels(path)["key"]) == ["A-1"]
