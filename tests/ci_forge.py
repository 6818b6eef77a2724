"""A stand-in for the `gh` command in the CI workflow test: the forge's calls become files.

It keeps comments, issues, runs and their artifacts in forge.json (next to the artifacts)
and answers exactly the calls the example workflow makes; `--jq` goes through the real jq.
Anything else exits 3, so a workflow that starts using another call fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

FORGE = Path(os.environ["FAKE_FORGE_DIR"])


def load() -> dict[str, Any]:
    return json.loads((FORGE / "forge.json").read_text(encoding="utf-8"))


def save(db: dict[str, Any]) -> None:
    (FORGE / "forge.json").write_text(json.dumps(db, indent=1), encoding="utf-8")


def opt(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def emit(value: Any, args: list[str]) -> None:
    jq = opt(args, "--jq")
    text = json.dumps(value)
    if jq is None:
        print(text)
        return
    r = subprocess.run(["jq", "-r", jq], input=text, capture_output=True, text=True, check=True)
    sys.stdout.write(r.stdout)


def body_of(args: list[str]) -> str:
    path = opt(args, "--body-file")
    if path is None:
        field = opt(args, "-F") or ""
        path = field.split("=@", 1)[1]
    return Path(path).read_text(encoding="utf-8")


def main(args: list[str]) -> int:
    db = load()
    db["calls"].append(args)
    repo = os.environ["GITHUB_REPOSITORY"]
    if args[0] == "api":
        path = next(a for a in args[1:] if a.startswith("repos/"))
        method = opt(args, "--method") or "GET"
        parts = path[len("repos/" + repo) + 1 :].split("/")
        if method == "GET" and parts[0] == "issues" and parts[2] == "comments":
            emit([c for c in db["comments"] if c["pr"] == int(parts[1])], args)
        elif method == "PATCH" and parts[:2] == ["issues", "comments"]:
            (c,) = [c for c in db["comments"] if c["id"] == int(parts[2])]
            c["body"] = body_of(args)
            c["edits"] += 1
        elif method == "GET" and parts[0] == "commits" and parts[2] == "pulls":
            pr = db["merged"].get(parts[1])
            emit([{"number": pr}] if pr else [], args)
        else:
            return 3
    elif args[:2] == ["pr", "comment"]:
        db["comments"].append(
            {"id": len(db["comments"]) + 1, "pr": int(args[2]), "body": body_of(args), "edits": 0}
        )
    elif args[:2] == ["pr", "view"]:
        emit({"headRefOid": db["heads"][args[2]]}, args)
    elif args[:2] == ["run", "list"]:
        commit = opt(args, "--commit")
        runs = [r for r in db["runs"] if r["head"] == commit and r["ok"]]
        emit([{"databaseId": r["id"]} for r in reversed(runs)], args)
    elif args[:2] == ["run", "download"]:
        src = FORGE / "artifacts" / args[2] / str(opt(args, "--name"))
        shutil.copytree(src, Path(str(opt(args, "--dir"))))
    elif args[:2] == ["label", "create"]:
        pass
    elif args[:2] == ["issue", "list"]:
        label = opt(args, "--label")
        emit(
            [{"number": i["number"]} for i in db["issues"] if i["open"] and label in i["labels"]],
            args,
        )
    elif args[:2] == ["issue", "create"]:
        db["issues"].append(
            {"number": len(db["issues"]) + 1, "open": True, "labels": [opt(args, "--label")],
             "title": opt(args, "--title"), "body": body_of(args), "edits": 0}
        )  # fmt: skip
    elif args[:2] == ["issue", "edit"]:
        issue = db["issues"][int(args[2]) - 1]
        issue["body"] = body_of(args)
        issue["edits"] += 1
    elif args[:2] == ["issue", "close"]:
        db["issues"][int(args[2]) - 1]["open"] = False
    else:
        return 3
    save(db)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
