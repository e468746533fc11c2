#!/usr/bin/env python3
"""How long `kvet lsp` takes to answer an editor: didOpen -> publishDiagnostics (the file
closed and opened again each round), and an edit -> publishDiagnostics (the 150 ms debounce
included, and without it), medians of ROUNDS; and the server's peak RSS at the end.

    tests/bench/lsp-latency.py target/release/kvet FILE [ROUNDS]
"""

import json
import pathlib
import statistics
import subprocess
import sys
import time

DEBOUNCE = 0.150


def main() -> None:
    kvet, file = str(pathlib.Path(sys.argv[1]).resolve()), pathlib.Path(sys.argv[2]).resolve()
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    server = subprocess.Popen(
        [kvet, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=file.parent
    )

    def send(message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        server.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        server.stdin.flush()

    def receive() -> dict:
        length = 0
        while line := server.stdout.readline().strip():
            if line.startswith(b"Content-Length:"):
                length = int(line.split(b":")[1])
        return json.loads(server.stdout.read(length))

    def published(version: int) -> dict:
        while True:
            message = receive()
            params = message.get("params", {})
            if message.get("method") == "textDocument/publishDiagnostics" and params.get("version") == version:
                return params

    send({"id": 1, "method": "initialize", "params": {"capabilities": {}, "rootUri": file.parent.as_uri()}})
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
    status = pathlib.Path(f"/proc/{server.pid}/status").read_text()
    peak = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
    send({"id": 2, "method": "shutdown"})
    receive()
    send({"method": "exit"})
    server.wait()
    ms = lambda xs: f"{statistics.median(xs) * 1000:.1f} ms"
    print(f"{file.name}: {len(text)} bytes, {found} findings, {rounds} rounds")
    print(f"  didOpen -> diagnostics: median {ms(opens)} (min {min(opens) * 1000:.1f})")
    edited = [e - DEBOUNCE for e in edits]
    print(f"  edit -> diagnostics: median {ms(edits)}, {ms(edited)} past the debounce")
    print(f"  server peak RSS: {int(peak) // 1024} MB")


main()
