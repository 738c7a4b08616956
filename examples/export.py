#!/usr/bin/env python3
"""Export every dataset you may see from a musubi hub, as NDJSON, resuming where it stopped.

    python3 examples/export.py http://localhost:8080 datasets.ndjson [API_KEY]

Standard library only. Each record carries `_cursor`; when the connection breaks (or the hub
ends the stream with an `_error` line), the export asks again from the last record it kept.
Run it again on the same file to resume an earlier, interrupted run.
"""
import http.client
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def last_cursor(path):
    """The `_cursor` of the last whole record in the file, if any."""
    cursor = None
    try:
        with open(path, "rb") as f:
            for line in f:
                if line.endswith(b"\n"):
                    cursor = json.loads(line).get("_cursor", cursor)
    except FileNotFoundError:
        pass
    return cursor


def export(hub, path, key=None):
    cursor, count = last_cursor(path), 0
    while True:
        url = hub.rstrip("/") + "/export/datasets.ndjson"
        if cursor:
            url += "?after=" + urllib.parse.quote(cursor)
        request = urllib.request.Request(url, headers={"X-API-Key": key} if key else {})
        try:
            with urllib.request.urlopen(request) as response, open(path, "ab") as out:
                for line in response:  # one record at a time: constant memory
                    if not line.endswith(b"\n"):
                        raise IOError("the stream broke mid-record")
                    record = json.loads(line)
                    if "_error" in record:
                        raise IOError(record["_error"])
                    out.write(line)
                    cursor, count = record["_cursor"], count + 1
            return count
        except (OSError, http.client.HTTPException) as e:  # a broken stream: resume after the last record kept
            if isinstance(e, urllib.error.HTTPError) and e.code < 500:
                raise SystemExit(f"{e.code}: {e.read().decode()}")
            print(f"interrupted after {count} records ({e}); resuming", file=sys.stderr)
            time.sleep(1)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    n = export(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    print(f"{n} datasets written to {sys.argv[2]}")
