/**
 * An agent's tool calling an API through its base-URL variable, in python3
 * (the test image has no curl): `python3 -c LLM_CLIENT_SCRIPT '<spec json>'`.
 * The spec names the variables' prefix (`env`: ANTHROPIC reads
 * ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY), the path under the base, the
 * JSON body, and optionally another token (null for none), extra headers, a
 * raw request target, padding for the body, and `abortAfterFirst`. Prints
 * the status, each piece of the answer as it arrived ([ms since the request,
 * bytes]) and the body.
 */
export const LLM_CLIENT_SCRIPT = String.raw`
import http.client, json, os, sys, time, urllib.parse
spec = json.loads(sys.argv[1])
base = urllib.parse.urlsplit(os.environ[spec["env"] + "_BASE_URL"])
token = spec["token"] if "token" in spec else os.environ.get(spec["env"] + "_API_KEY")
header = spec.get("header", "x-api-key")
headers = {"content-type": "application/json"}
if token:
    headers[header] = "Bearer " + token if header == "authorization" else token
headers.update(spec.get("headers", {}))
body = json.dumps(spec.get("body", {})).encode() + b" " * spec.get("pad", 0)
connection = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
started = time.monotonic()
connection.request(spec.get("method", "POST"), spec.get("target", base.path + spec.get("path", "")), body=body, headers=headers)
response = connection.getresponse()
pieces, data = [], b""
while True:
    piece = response.read1(65536)
    if not piece:
        break
    pieces.append([round((time.monotonic() - started) * 1000), len(piece)])
    data += piece
    if spec.get("abortAfterFirst"):
        connection.sock.close()
        break
print(json.dumps({"status": response.status, "pieces": pieces, "body": data.decode("utf-8", "replace")}))
`;
