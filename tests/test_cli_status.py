"""`jupyter cursor --version` and `jupyter cursor status`, as a user runs them."""

import json
import subprocess
import sys
from pathlib import Path

from jupyter_cursor import __version__

JUPYTER = str(Path(sys.executable).parent / "jupyter")


def cursor(*args, env=None):
    return subprocess.run(
        [JUPYTER, "cursor", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_version():
    done = cursor("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"jupyter_cursor {__version__}"


def test_status_without_a_server(tmp_path, monkeypatch):
    env = {"PATH": str(Path(sys.executable).parent), "JUPYTER_RUNTIME_DIR": str(tmp_path)}
    done = cursor("status", env=env)
    assert done.returncode == 0
    assert "no running Jupyter server found" in done.stdout
    done = cursor("status", "--json", env=env)
    assert json.loads(done.stdout) == {"version": __version__, "servers": []}


def test_status_finds_the_running_server(lab_server):
    done = cursor("status", "--json", env=lab_server.env)
    assert done.returncode == 0, done.stderr
    (report,) = json.loads(done.stdout)["servers"]
    assert report["url"] == lab_server.url
    assert report["status"]["version"] == __version__
    assert set(report["status"]["services"]) >= {"index", "model", "apply"}
    text = cursor("status", env=lab_server.env).stdout
    assert f"server {lab_server.url}" in text and "model" in text


def test_status_with_url_and_token(lab_server):
    ok = cursor("status", "--url", lab_server.url, "--token", lab_server.token, "--json")
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["servers"][0]["status"]["version"] == __version__
    wrong = cursor("status", "--url", lab_server.url, "--token", "wrong")
    assert wrong.returncode == 1
    assert "forbidden" in wrong.stdout


def test_status_of_an_unreachable_url_fails():
    done = cursor("status", "--url", "http://127.0.0.1:9/", "--timeout", "2")
    assert done.returncode == 1
    assert "unreachable" in done.stdout
    bad = cursor("status", "--url", "ftp://example")
    assert bad.returncode == 2 and "must start with http" in bad.stderr
