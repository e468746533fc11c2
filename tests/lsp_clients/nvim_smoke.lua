-- Headless Neovim attaches `kvet lsp` to a manifest and writes the diagnostics it received,
-- one `rule line:col` per line (0-based), to $KVET_OUT. Works from Neovim 0.7 (Debian's) on:
-- vim.lsp.start_client and vim.diagnostic.get are there since 0.6.
local kvet, file, out = os.getenv("KVET"), os.getenv("KVET_FILE"), os.getenv("KVET_OUT")
vim.cmd("edit " .. vim.fn.fnameescape(file))
local client = vim.lsp.start_client({
  name = "kvet",
  cmd = { kvet, "lsp" },
  root_dir = vim.fn.fnamemodify(file, ":h"),
})
vim.lsp.buf_attach_client(0, client)
local received = vim.wait(30000, function()
  return #vim.diagnostic.get(0) > 0
end, 20)
local lines = {}
if not received then
  table.insert(lines, "no diagnostics within 30 s")
end
for _, d in ipairs(vim.diagnostic.get(0)) do
  local lsp = (d.user_data or {}).lsp or {}
  table.insert(lines, string.format("%s %d:%d", d.code or lsp.code or "?", d.lnum, d.col))
end
table.sort(lines)
vim.fn.writefile(lines, out)
vim.lsp.stop_client(client)
vim.cmd("qa!")
