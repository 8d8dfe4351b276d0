"""The stdlib's HTTP server and clients, unchanged, across a router: http.server serving files,
fetched by http.client and urllib.request on another host (virtual time shows in the Date header)."""

# ruff: noqa: PLC0415 - programs import inside their bodies: that is how a callable gets its host's modules

from __future__ import annotations

from pathlib import Path

from wirelab.process import scheduler_of, start
from wirelab.sim.network import Network


def test_http_server_serves_files_to_http_client_and_urllib(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<h1>hello from b</h1>\n")
    net = Network(seed=4)
    sw1, sw2 = net.switch("sw1"), net.switch("sw2")
    net.link(net.host("a", "192.168.1.10/24", gateway="192.168.1.1"), sw1, delay="1ms")
    net.link(net.host("b", "192.168.2.10/24", gateway="192.168.2.1"), sw2, delay="1ms")
    router = net.router("r1")
    net.link(router, sw1, address="192.168.1.1/24")
    net.link(router, sw2, address="192.168.2.1/24")

    def server() -> None:
        import functools
        import http.server

        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
        with http.server.ThreadingHTTPServer(("", 8000), handler) as httpd:
            httpd.serve_forever()

    def client() -> None:
        import http.client
        import urllib.request

        connection = http.client.HTTPConnection("b", 8000, timeout=5)
        connection.request("GET", "/index.html")
        response = connection.getresponse()
        print(response.status, response.getheader("Content-Type"), response.getheader("Date"), response.read())
        with urllib.request.urlopen("http://192.168.2.10:8000/") as page:
            print(page.status, page.read())

    server_process = start(net, "b", server)
    client_process = start(net, "a", client, delay="10ms")
    net.run(until="3s")
    assert client_process.exit_code == 0, client_process.stderr
    assert client_process.stdout == (
        "200 text/html Mon, 01 Jan 2024 00:00:00 GMT b'<h1>hello from b</h1>\\n'\n200 b'<h1>hello from b</h1>\\n'\n"
    )
    log = server_process.stderr.splitlines()
    assert [line.split('"')[1] for line in log] == ["GET /index.html HTTP/1.1", "GET / HTTP/1.1"]
    assert all(line.startswith("192.168.1.10 - - [01/Jan/2024 00:00:00]") for line in log)
    scheduler_of(net.sim).shutdown()
