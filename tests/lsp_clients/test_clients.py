"""`kvet lsp` under the recorded capabilities of real clients: pytest-lsp replays what
VS Code, Neovim and Emacs announce at initialize, and checks every answer of kvet's against
what that client supports. Run by tests/editors.rs (`cargo test`), with KVET set to the
binary under test."""

import os
import pathlib
import tempfile

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

CLIENTS = ["visual-studio-code", "neovim@v0.7.0", "neovim@v0.11.0", "emacs"]

POD = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: web
      image: nginx:latest
"""

WORKSPACE = pathlib.Path(tempfile.mkdtemp(prefix="kvet-lsp-clients-"))
DOCUMENT = WORKSPACE / "pod.yaml"
DOCUMENT.write_text(POD)
URI = DOCUMENT.as_uri()


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[os.environ["KVET"], "lsp"]),
    params=CLIENTS,
)
async def client(request, lsp_client: LanguageClient):
    # kvet asks the clients that can watch files to tell it of config and policy changes;
    # the test client accepts, as those clients do.
    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams):
        return None

    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(request.param),
            root_uri=WORKSPACE.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=WORKSPACE.as_uri(), name="ws")],
        )
    )
    yield
    await lsp_client.shutdown_session()


async def open_pod(client: LanguageClient) -> list:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=URI, language_id="yaml", version=1, text=POD
            )
        )
    )
    await client.wait_for_notification("textDocument/publishDiagnostics")
    return list(client.diagnostics[URI])


async def test_diagnostics_with_exact_ranges(client: LanguageClient):
    diagnostics = await open_pod(client)
    found = sorted(
        (d.code, d.range.start.line, d.range.start.character, d.range.end.character)
        for d in diagnostics
    )
    assert ("image-tag-latest", 7, 13, 25) in found, found
    assert ("run-as-root", 6, 6, 25) in found, found
    assert all(d.source == "kvet" for d in diagnostics)


async def test_code_actions_and_hover(client: LanguageClient):
    diagnostics = await open_pod(client)
    latest = next(d for d in diagnostics if d.code == "run-as-root")
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            range=latest.range,
            context=types.CodeActionContext(diagnostics=[latest]),
        )
    )
    titles = [a.title for a in actions]
    assert titles == [
        "Set runAsNonRoot: true",
        "Suppress `run-as-root` on this line",
        "Suppress `run-as-root` for this object",
    ], titles
    assert actions[0].is_preferred
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            position=types.Position(line=7, character=20),
        )
    )
    assert "# image-tag-latest" in hover.contents.value
