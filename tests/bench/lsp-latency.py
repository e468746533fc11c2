#!/usr/bin/env python3
"""How long `kvet lsp` takes to answer an editor.

    tests/bench/lsp-latency.py target/release/kvet FILE [ROUNDS]
        didOpen -> publishDiagnostics (the file closed and opened again each round) and an
        edit -> publishDiagnostics (with the 150 ms debounce, and without it), medians of
        ROUNDS, with no workspace (the document's own check alone); the server's peak RSS.
    tests/bench/lsp-latency.py target/release/kvet DIR [FILE [ROUNDS]]
        the workspace check of DIR at start-up: initialize -> the end of its $/progress,
        and the server's peak RSS after it; with FILE (in DIR), then ROUNDS edits of it, each
        followed by the workspace check it causes: edit -> the end of that check's
        $/progress (the wait after the last change included), and the check alone (its
        progress token asked for -> its end), medians.
"""

import json
import pathlib
import queue
import statistics
import subprocess
import sys
import threading
import time

DEBOUNCE = 0.150


def main() -> None:
    kvet, file = str(pathlib.Path(sys.argv[1]).resolve()), pathlib.Path(sys.argv[2]).resolve()
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 and not file.is_dir() else 20
    folder = file if file.is_dir() else file.parent
    server = subprocess.Popen(
        [kvet, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=folder
    )

    def send(message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        server.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        server.stdin.flush()

    # Read on a thread of its own, as editors do: the server's writes never wait for ours.
    incoming: queue.Queue = queue.Queue()

    def read_all() -> None:
        while True:
            length = 0
            while line := server.stdout.readline().strip():
                if line.startswith(b"Content-Length:"):
                    length = int(line.split(b":")[1])
            if not length:
                return
            incoming.put(json.loads(server.stdout.read(length)))

    threading.Thread(target=read_all, daemon=True).start()

    def receive() -> dict:
        return incoming.get(timeout=120)

    def published(version: int) -> dict:
        while True:
            message = receive()
            params = message.get("params", {})
            if message.get("method") == "textDocument/publishDiagnostics" and params.get("version") == version:
                return params

    def rss(field: str) -> int:
        status = pathlib.Path(f"/proc/{server.pid}/status").read_text()
        return int(next(l.split()[1] for l in status.splitlines() if l.startswith(field))) // 1024

    def peak_rss() -> str:
        return f"{rss('VmHWM')} MB (now {rss('VmRSS')} MB)"

    def stop() -> None:
        send({"id": 2, "method": "shutdown"})
        while "id" not in receive():
            pass
        send({"method": "exit"})
        server.wait()

    if file.is_dir():
        start = time.perf_counter()
        capabilities = {"window": {"workDoneProgress": True}}
        send({"id": 1, "method": "initialize", "params": {"capabilities": capabilities, "rootUri": file.as_uri()}})
        receive()
        send({"method": "initialized", "params": {}})
        while True:
            message = receive()
            if message.get("method") == "window/workDoneProgress/create":
                send({"id": message["id"], "result": None})
            value = message.get("params", {}).get("value", {})
            if message.get("method") == "$/progress" and value.get("kind") == "end":
                break
        took = time.perf_counter() - start
        print(f"{file}: workspace checked in {took:.2f} s ({value.get('message')}); peak RSS {peak_rss()}")
        if len(sys.argv) > 3:
            edited = pathlib.Path(sys.argv[3]).resolve()
            rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 10
            uri, text = edited.as_uri(), edited.read_text()
            send({"method": "textDocument/didOpen", "params": {"textDocument": {
                "uri": uri, "languageId": "yaml", "version": 0, "text": text}}})
            totals, checks = [], []
            for version in range(1, rounds + 1):
                text += f"# edit {version}\n"
                start = time.perf_counter()
                send({"method": "textDocument/didChange", "params": {
                    "textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}})
                asked = None
                while True:
                    message = receive()
                    if message.get("method") == "window/workDoneProgress/create":
                        asked = time.perf_counter()
                        send({"id": message["id"], "result": None})
                    value = message.get("params", {}).get("value", {})
                    if asked and message.get("method") == "$/progress" and value.get("kind") == "end":
                        break
                now = time.perf_counter()
                totals.append(now - start)
                checks.append(now - asked)
            ms = lambda xs: f"{statistics.median(xs) * 1000:.0f} ms"
            print(f"  edit of {edited.name} -> workspace findings: median {ms(totals)}; the check alone {ms(checks)} ({rounds} rounds)")
            print(f"  server peak RSS: {peak_rss()}")
        stop()
        return

    # No workspace: the document's own check alone.
    send({"id": 1, "method": "initialize", "params": {"capabilities": {}, "rootUri": None}})
    receive()
    send({"method": "initialized", "params": {}})
    uri, text = file.as_uri(), file.read_text()
    opens, edits, found = [], [], 0
    for version in range(1, rounds + 1):
        start = time.perf_counter()
        send({"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "yaml", "version": version, "text": text}}})
        found = len(published(version)["diagnostics"])
        opens.append(time.perf_counter() - start)
        send({"method": "textDocument/didClose", "params": {"textDocument": {"uri": uri}}})
    send({"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "yaml", "version": 0, "text": text}}})
    published(0)
    for version in range(1, rounds + 1):
        # An edit at the end: a comment, so the findings stay the same.
        text += f"# edit {version}\n"
        start = time.perf_counter()
        send({"method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}})
        published(version)
        edits.append(time.perf_counter() - start)
    peak = peak_rss()
    stop()
    ms = lambda xs: f"{statistics.median(xs) * 1000:.1f} ms"
    print(f"{file.name}: {len(text)} bytes, {found} findings, {rounds} rounds")
    print(f"  didOpen -> diagnostics: median {ms(opens)} (min {min(opens) * 1000:.1f})")
    edited = [e - DEBOUNCE for e in edits]
    print(f"  edit -> diagnostics: median {ms(edits)}, {ms(edited)} past the debounce")
    print(f"  server peak RSS: {peak}")


main()
