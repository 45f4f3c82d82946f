"""The demo's dev server: serves this folder on 0.0.0.0:$PORT, shows which
agent's branch it runs on, and reloads the page when a file here changes."""
import hashlib
import http.server
import os
import subprocess

ROOT = os.path.dirname(os.path.abspath(__file__))
PORT = int(os.environ.get("PORT", "3000"))


def branch():
    """The checked-out branch (gitiso/<agent-id> in an agent), read from .git/HEAD, else asked of git."""
    try:
        with open(os.path.join(ROOT, ".git", "HEAD"), encoding="utf-8") as head:
            ref = head.read().strip()
        if ref.startswith("ref: refs/heads/"):
            return ref[len("ref: refs/heads/"):]
    except OSError:
        pass
    result = subprocess.run(["git", "-C", ROOT, "symbolic-ref", "--short", "HEAD"], capture_output=True, text=True)
    return result.stdout.strip() or "(no branch)"


def version():
    """Changes whenever a file of the app changes: the page polls it to reload."""
    digest = hashlib.sha256()
    for name in sorted(os.listdir(ROOT)):
        path = os.path.join(ROOT, name)
        if os.path.isfile(path):
            stat = os.stat(path)
            digest.update(f"{name}:{stat.st_mtime_ns}:{stat.st_size};".encode())
    return digest.hexdigest()[:16]


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=ROOT, **kwargs)

    def do_GET(self):
        if self.path == "/version":
            return self.send_text(version(), "text/plain")
        if self.path in ("/", "/index.html"):
            with open(os.path.join(ROOT, "index.html"), encoding="utf-8") as page:
                html = page.read().replace("{{branch}}", branch()).replace("{{version}}", version())
            return self.send_text(html, "text/html; charset=utf-8")
        return super().do_GET()

    def log_message(self, format, *args):
        # The page polls /version every second: keep the log for what matters.
        if not self.path.startswith("/version"):
            super().log_message(format, *args)

    def send_text(self, text, kind):
        body = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    server = http.server.ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    print(f"demo app on http://0.0.0.0:{PORT} (branch {branch()})", flush=True)
    server.serve_forever()
