"""``jupyter cursor status``: the state of the running server's services, or that none runs."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from .._version import __version__
from ._common import UsageError, print_json


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "status",
        help="show the state of jupyter_cursor in the running Jupyter server(s)",
        description="Query /jupyter-cursor/status of a running server. Without --url, every "
        "server listed in Jupyter's runtime directory is asked.",
    )
    parser.add_argument(
        "--url", help="server URL, e.g. http://127.0.0.1:8888/ (default: find them)"
    )
    parser.add_argument("--token", default="", help="the server's token (with --url)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for a server")
    parser.set_defaults(func=run)


def fetch_status(url: str, token: str, timeout: float) -> dict:
    request = urllib.request.Request(url.rstrip("/") + "/jupyter-cursor/status")
    if token:
        request.add_header("Authorization", f"token {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (user's URL)
        return json.load(response)


def running_servers() -> list[dict]:
    from jupyter_server.serverapp import list_running_servers

    return list(list_running_servers())


def run(args) -> int:
    if args.url:
        if not args.url.startswith(("http://", "https://")):
            raise UsageError("--url must start with http:// or https://")
        targets = [{"url": args.url, "token": args.token}]
    else:
        targets = running_servers()
    reports = []
    for server in targets:
        report = {"url": server["url"]}
        try:
            report["status"] = fetch_status(server["url"], server.get("token", ""), args.timeout)
        except urllib.error.HTTPError as err:
            reason = "extension not enabled" if err.code == 404 else f"HTTP {err.code}"
            report["error"] = reason if err.code != 403 else "forbidden (wrong or missing token)"
        except (urllib.error.URLError, OSError, ValueError) as err:
            report["error"] = f"unreachable: {getattr(err, 'reason', err)}"
        reports.append(report)

    if args.json:
        print_json({"version": __version__, "servers": reports})
    else:
        print(f"jupyter_cursor {__version__}")
        if not reports:
            print("no running Jupyter server found (start one with `jupyter lab`)")
        for report in reports:
            print(f"server {report['url']}")
            if "error" in report:
                print(f"  {report['error']}")
                continue
            for name, service in report["status"]["services"].items():
                line = f"  {name:<8} {service['state']}"
                if service.get("message"):
                    line += f" - {service['message']}"
                print(line)
    # Asked for one server and it did not answer: that is a failure for a script.
    return 1 if args.url and "error" in reports[0] else 0
