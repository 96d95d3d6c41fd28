#!/usr/bin/env python3
"""faultproxy.py: an HTTP proxy between the S3 store and s3rver, for tests.

    faultproxy.py --port P --upstream 127.0.0.1:Q --control FILE --log FILE
                  [--secret SECRET]

It forwards every request to the upstream S3 server, and:

- checks each request's AWS SigV4 signature with SECRET (s3rver accepts any
  signature) and that x-amz-content-sha256 matches the body; a bad one gets
  403 SignatureDoesNotMatch or 400 XAmzContentSHA256Mismatch;
- obeys the control FILE, re-read before every request (one line):
      ok                 forward (also when the file is missing or empty)
      fail CODE N        answer the next N requests with CODE (500, 503, ...)
                         and an S3 error document, then forward again
      stall SECONDS      read the request, then say nothing for SECONDS
      refuse             reset every connection as soon as it is accepted
      longid [abort]     give every multipart upload started from now on a
                         long UploadId (about 700 bytes, most of them
                         characters that URI encoding triples) in place of
                         the server's, and map it back on the requests that
                         name it; the parts uploaded under it get long
                         ETags too (about 450 bytes), mapped back in the
                         CompleteMultipartUpload body; with "abort", also answer each UploadPart
                         under such an id 400 InvalidArgument (not retried),
                         so the client must abort the upload.  s3rver
                         3.7 has no AbortMultipartUpload (405): the proxy
                         answers it itself for a long UploadId, 204, and
                         forgets the id
  An UploadId that looks like one of ours but is not exactly one (cut short
  or mangled by the client) gets 404 NoSuchUpload, as S3 answers, whatever
  the mode; so does a long ETag that comes back changed, with 400
  InvalidPart.
- logs one line per request to the log FILE: "METHOD PATH?QUERY STATUS"
  and the Range header if any.  No other header: Authorization names the
  access key.

Python 3 standard library only.  Stops on SIGTERM.
"""
import argparse
import hashlib
import hmac
import http.client
import http.server
import os
import socket
import struct
import re
import sys
import threading
import time
import urllib.parse
import xml.sax.saxutils

STATE = {"key": None, "left": 0}
# long UploadId given out -> the upstream's own (see "longid")
LONG_IDS = {}
LONG_MARK = "corafsLongId"
# long ETag given out -> the upstream's own
LONG_ETAGS = {}
ETAG_MARK = '"corafsLongETag'
LOCK = threading.Lock()
HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
       "te", "trailer", "upgrade", "expect"}


def control(path, consume=True):
    """The mode for this request: ('ok',), ('fail', code), ('stall', s),
    ('refuse',).  consume=False peeks without counting a failure."""
    try:
        st = os.stat(path)
        with open(path) as f:
            words = f.read().split()
    except OSError:
        return ("ok",)
    if not words or words[0] == "ok":
        return ("ok",)
    if words[0] == "refuse":
        return ("refuse",)
    if words[0] == "longid":
        return ("longid", len(words) > 1 and words[1] == "abort")
    if words[0] == "stall":
        return ("stall", float(words[1]) if len(words) > 1 else 3600.0)
    if words[0] == "fail":
        key = (st.st_mtime_ns, st.st_ino, tuple(words))
        with LOCK:
            if STATE["key"] != key:
                STATE["key"] = key
                STATE["left"] = int(words[2]) if len(words) > 2 else 1
            if STATE["left"] > 0:
                STATE["left"] -= 1 if consume else 0
                return ("fail", int(words[1]))
        return ("ok",)
    return ("ok",)


def uri_encode(s, slash):
    return urllib.parse.quote(s, safe="-_.~" + ("/" if slash else ""))


def canonical_query(q):
    if not q:
        return ""
    pairs = []
    for part in q.split("&"):
        k, _, v = part.partition("=")
        pairs.append((uri_encode(urllib.parse.unquote(k), False),
                      uri_encode(urllib.parse.unquote(v), False)))
    pairs.sort()
    return "&".join("%s=%s" % p for p in pairs)


def long_id(real):
    """A long UploadId standing for real: unique (it holds real), about 700
    bytes, with '+', '/', '=', '&', ' ' and '%' that URI encoding triples
    and '&' that XML must escape."""
    pad = "+/=& %"
    s = "%s-%s-" % (LONG_MARK, real)
    s += (pad * (700 // len(pad) + 1))[:max(0, 700 - len(s))]
    return s + "end"


def long_etag(real):
    return '%s-%s-%s"' % (ETAG_MARK, real.strip('"'), "e" * 400)


def upstream_complete(body):
    """A CompleteMultipartUpload body with the long ETags replaced by the
    upstream's, or None when one of ours arrived changed."""
    bad = []

    def swap(m):
        tag = xml.sax.saxutils.unescape(m.group(1).decode(),
                                        {"&quot;": '"', "&apos;": "'"})
        if not tag.startswith(ETAG_MARK):
            return m.group(0)
        with LOCK:
            real = LONG_ETAGS.get(tag)
        if real is None:
            bad.append(tag)
            return m.group(0)
        return b"<ETag>" + xml.sax.saxutils.escape(real).encode() + b"</ETag>"
    out = re.sub(rb"<ETag>([^<]*)</ETag>", swap, body)
    return None if bad else out


def upstream_query(query):
    """query with a long UploadId replaced by the upstream's, or None when
    it names a long UploadId we never gave out (the client changed it)."""
    if "uploadId=" not in query:
        return query
    out = []
    for part in query.split("&"):
        k, eq, v = part.partition("=")
        if k == "uploadId" and v.startswith(LONG_MARK):
            with LOCK:
                real = LONG_IDS.get(urllib.parse.unquote(v))
            if real is None:
                return None
            v = uri_encode(real, False)
        out.append(k + eq + v)
    return "&".join(out)


def hmac256(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def check_sigv4(method, path, query, headers, body, secret):
    """None when the request is signed right, else (status, code, message)."""
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return (403, "AccessDenied", "request is not signed with SigV4")
    fields = {}
    for item in auth[len("AWS4-HMAC-SHA256 "):].split(","):
        k, _, v = item.strip().partition("=")
        fields[k] = v
    try:
        _, date, region, service, term = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
        signature = fields["Signature"]
    except (KeyError, ValueError):
        return (403, "AccessDenied", "malformed Authorization header")
    payload = headers.get("x-amz-content-sha256")
    if payload is None:
        return (400, "InvalidRequest", "missing x-amz-content-sha256")
    if payload != "UNSIGNED-PAYLOAD" and payload != hashlib.sha256(body).hexdigest():
        return (400, "XAmzContentSHA256Mismatch",
                "the body does not hash to x-amz-content-sha256")
    for must in ("host", "x-amz-date", "x-amz-content-sha256"):
        if must not in signed:
            return (403, "AccessDenied", "%s is not signed" % must)
    canon_headers = "".join(
        "%s:%s\n" % (h, " ".join(headers.get(h, "").split())) for h in signed)
    creq = "\n".join([method, uri_encode(urllib.parse.unquote(path), True),
                      canonical_query(query), canon_headers, ";".join(signed),
                      payload])
    scope = "/".join([date, region, service, term])
    sts = "\n".join(["AWS4-HMAC-SHA256", headers.get("x-amz-date", ""), scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = hmac256(("AWS4" + secret).encode(), date)
    k = hmac256(k, region)
    k = hmac256(k, service)
    k = hmac256(k, term)
    want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, signature):
        return (403, "SignatureDoesNotMatch",
                "The request signature we calculated does not match the "
                "signature you provided")
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def log(self, status):
        rng = self.headers.get("Range")
        with LOCK, open(self.server.opts.log, "a") as f:
            f.write("%s %s %s%s\n" % (self.command, self.path, status,
                                       " " + rng if rng else ""))

    def handle(self):
        if control(self.server.opts.control, False)[0] == "refuse":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            with LOCK, open(self.server.opts.log, "a") as f:
                f.write("REFUSED\n")
            return
        super().handle()

    def reply(self, status, code, message, body_allowed=True):
        doc = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
               '<Message>%s</Message></Error>' % (code, message)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(doc)))
        self.end_headers()
        if body_allowed:
            self.wfile.write(doc)
        self.log(status)

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        mode = control(self.server.opts.control)
        head = self.command == "HEAD"
        if mode[0] == "stall":
            self.log("STALL")
            time.sleep(mode[1])
            self.close_connection = True
            return
        if mode[0] == "fail":
            self.reply(mode[1], "InternalError" if mode[1] == 500 else
                       "SlowDown" if mode[1] == 503 else "Error",
                       "injected by faultproxy", not head)
            return
        split = urllib.parse.urlsplit(self.path)
        hdrs = {k.lower(): v for k, v in self.headers.items()}
        if self.server.opts.secret is not None:
            bad = check_sigv4(self.command, split.path, split.query, hdrs,
                              body, self.server.opts.secret)
            if bad:
                self.reply(bad[0], bad[1], bad[2], not head)
                return
        query = upstream_query(split.query)
        if query is None:
            self.reply(404, "NoSuchUpload", "the specified upload does not "
                       "exist: the UploadId arrived changed (%d bytes)" %
                       len(urllib.parse.unquote(
                           split.query.split("uploadId=", 1)[1].split("&")[0])),
                       not head)
            return
        if (mode[0] == "longid" and mode[1] and self.command == "PUT" and
                "partNumber=" in split.query and query != split.query):
            self.reply(400, "InvalidArgument", "injected by faultproxy")
            return
        if self.command == "DELETE" and query != split.query:
            with LOCK:
                LONG_IDS.pop(urllib.parse.unquote(
                    split.query.split("uploadId=", 1)[1].split("&")[0]), None)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.log(204)
            return
        fwd = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        if self.command == "POST" and query != split.query and length:
            new = upstream_complete(body)
            if new is None:
                self.reply(400, "InvalidPart", "one or more of the specified "
                           "parts could not be found: an ETag arrived "
                           "changed")
                return
            if new != body:
                body = new
                fwd = {k: v for k, v in fwd.items() if k.lower() not in
                       ("content-length", "x-amz-content-sha256")}
                fwd["Content-Length"] = str(len(body))
                fwd["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
        path = split.path + ("?" + query if query else "")
        up = http.client.HTTPConnection(self.server.opts.upstream, timeout=60)
        try:
            up.request(self.command, path, body=body if length else None,
                       headers=fwd)
            resp = up.getresponse()
            data = resp.read()
        except OSError:
            self.reply(502, "BadGateway", "upstream is down", not head)
            return
        finally:
            up.close()
        if (mode[0] == "longid" and self.command == "POST" and
                resp.status == 200 and
                re.search(r"(^|&)uploads(=|&|$)", split.query)):
            data = self.lengthen_id(data)
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() in HOP or k.lower() == "content-length":
                continue
            if (k.lower() == "etag" and mode[0] == "longid" and
                    self.command == "PUT" and resp.status == 200 and
                    "partNumber=" in split.query and query != split.query):
                fake = long_etag(v)
                with LOCK:
                    LONG_ETAGS[fake] = v
                v = fake
            self.send_header(k, v)
        self.send_header("Content-Length", resp.getheader("Content-Length") if head
                         else str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)
        self.log(resp.status)

    def lengthen_id(self, data):
        """The InitiateMultipartUploadResult data with a long UploadId."""
        m = re.search(rb"<UploadId>([^<]*)</UploadId>", data)
        if not m:
            return data
        real = xml.sax.saxutils.unescape(m.group(1).decode())
        fake = long_id(real)
        with LOCK:
            LONG_IDS[fake] = real
        return (data[:m.start(1)] + xml.sax.saxutils.escape(fake).encode() +
                data[m.end(1):])

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = forward


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--control", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--secret")
    opts = ap.parse_args()
    srv = Server(("127.0.0.1", opts.port), Handler)
    srv.opts = opts
    import signal
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    try:
        srv.serve_forever()
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
