#!/usr/bin/env python3
"""Drives headless chromium over the DevTools protocol to use a report.html as a person would.

    report_cdp.py CHROMIUM PAGE.html PROFILE_DIR

Opens the page from file://, then: fails on any console message, uncaught exception or log
entry of level error or warning; moves the grid slider to its first position and checks that
the grid shown and its label follow; hovers each chart and checks that its legend shows the
values at the step under the pointer. Prints one line per check ("ok ..." or "FAIL ...") and
exits 1 when any failed.

Only the standard library: the WebSocket client below is the little RFC 6455 that talking to a
local chromium needs (one connection, text frames, masked as a client must), because no
WebSocket package is installed here and the machine has no network to fetch one.
"""
import base64
import json
import os
import socket
import struct
import subprocess
import sys
import time


class WebSocket:
    def __init__(self, url):
        assert url.startswith("ws://")
        hostport, path = url[5:].split("/", 1)
        host, port = hostport.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, hostport, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise IOError("the DevTools socket closed during the handshake")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise IOError("no WebSocket upgrade: %r" % head[:200])

    def send(self, text):
        data, mask = text.encode(), os.urandom(4)
        n = len(data)
        header = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else
                                  bytes([0x80 | 126]) + struct.pack(">H", n) if n < 65536 else
                                  bytes([0x80 | 127]) + struct.pack(">Q", n))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise IOError("the DevTools socket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        message = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)  # a server does not mask
            opcode = b0 & 0x0F
            if opcode == 8:
                raise IOError("the DevTools socket was closed by chromium")
            if opcode in (9, 10):  # ping, pong: chromium does not expect an answer from us here
                continue
            message += payload
            if b0 & 0x80:
                return message.decode()


class Page:
    def __init__(self, ws):
        self.ws, self.next_id, self.events = ws, 0, []

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            m = json.loads(self.ws.recv())
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise IOError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method, seconds):
        end = time.time() + seconds
        while time.time() < end:
            if any(e.get("method") == method for e in self.events):
                return True
            self.ws.sock.settimeout(max(0.1, end - time.time()))
            try:
                self.events.append(json.loads(self.ws.recv()))
            except socket.timeout:
                break
        return any(e.get("method") == method for e in self.events)

    def js(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise IOError("evaluating %s: %s" % (expr, r["exceptionDetails"].get("text")))
        return r["result"].get("value")

    def problems(self):
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled":
                out.append("console.%s: %s" % (p.get("type"), " ".join(str(a.get("value", a.get("description")))
                                                                       for a in p.get("args", []))))
            elif m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append("uncaught: %s %s" % (d.get("text"), d.get("exception", {}).get("description", "")))
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
                out.append("log %s: %s" % (p["entry"]["level"], p["entry"].get("text")))
        return out


def main():
    chromium, page_path, profile = sys.argv[1:4]
    proc = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                             "--disable-background-networking", "--disable-component-update", "--disable-sync",
                             "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--remote-debugging-port=0",
                             "--window-size=1280,2000", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    failures = 0

    def check(what, ok, detail=""):
        nonlocal failures
        print(("ok   " if ok else "FAIL ") + what + ("" if ok else ": " + str(detail)))
        failures += not ok

    try:
        # Port 0: chromium picks a free port and writes it into the profile, so parallel tests
        # never collide.
        port_file = os.path.join(profile, "DevToolsActivePort")
        for _ in range(300):
            if os.path.exists(port_file) and open(port_file).read().count("\n") >= 1:
                break
            time.sleep(0.1)
        port, browser_path = open(port_file).read().split("\n")[:2]
        browser = Page(WebSocket("ws://127.0.0.1:%s%s" % (port, browser_path)))
        target = browser.call("Target.createTarget", url="about:blank")["targetId"]
        page = Page(WebSocket("ws://127.0.0.1:%s/devtools/page/%s" % (port, target)))
        for domain in ("Runtime", "Log", "Page"):
            page.call(domain + ".enable")
        url = "file://" + os.path.abspath(page_path)
        t0 = time.time()
        page.call("Page.navigate", url=url)
        check("the page loads", page.wait_event("Page.loadEventFired", 60), "no load event in 60 s")
        load_s = time.time() - t0
        print("     loaded and drawn in %.2f s" % load_s)

        charts = page.js("Array.from(document.querySelectorAll('figure.plot')).map(f => [f.id, "
                         "f.querySelectorAll('polyline, circle').length])")
        check("charts drawn (%s)" % ", ".join(c[0] for c in charts or []),
              charts and all(n > 0 for _, n in charts), charts)

        n = page.js("JSON.parse(document.getElementById('gan-data').textContent).grids.length")
        if n:
            shown = page.js("document.getElementById('grid-step').textContent")
            check("the slider starts at the newest grid (%s)" % shown, shown.endswith("(%d of %d)" % (n, n)), shown)
            moved = page.js("""(() => {
                const s = document.getElementById('grid-slider'), d = JSON.parse(document.getElementById('gan-data').textContent);
                s.value = 0; s.dispatchEvent(new Event('input'));
                return [document.getElementById('grid-step').textContent,
                        document.getElementById('grid-img').src === d.grids[0].src, d.grids[0].step];
            })()""")
            check("moving the slider shows the first grid (%s)" % moved[0],
                  moved[1] and moved[0].startswith("step %d (1 of %d)" % (moved[2], n)), moved)
            done = page.js("(() => { const i = document.getElementById('grid-img'); "
                           "return i.complete && i.naturalWidth > 0; })()")
            check("the grid image decodes", done, done)

        # Hover the middle of each chart: the legend shows values at a step, not the last ones.
        hovered = page.js("""Array.from(document.querySelectorAll('figure.plot')).map(f => {
            const svg = f.querySelector('svg'), r = svg.getBoundingClientRect();
            svg.dispatchEvent(new MouseEvent('mousemove', {clientX: r.left + r.width * 0.5, clientY: r.top + 20}));
            const cur = f.querySelector('.cur');
            return [f.id, cur.getAttribute('visibility'), f.querySelector('.legend').textContent];
        })""")
        check("hovering shows a cursor and the values there",
              hovered and all(v == "visible" and "@" in text for _, v, text in hovered), hovered)

        problems = page.problems()
        check("no console message, exception or error", not problems, "; ".join(problems))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
