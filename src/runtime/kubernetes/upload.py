"""Sends a finished job's results to the AnyTrade control plane that started it.

Run by the job's pod after its steps: `python3 upload.py STATUS LOG`. Zips the
result directories of `user_data` and the job's log, and sends them once, with the
steps' exit status, to $ANYTRADE_RESULTS_URL with the job's one-time token. Retries
while the control plane does not answer; an upload it already has counts as sent.
"""

import io
import os
import sys
import time
import urllib.error
import urllib.request
import zipfile

USER_DATA = "/anytrade/user_data"
RESULT_DIRS = ("backtest_results", "hyperopt_results")
TOKEN_FILE = "/run/anytrade/token"
LOG_NAME = "anytrade-job.log"
# How long to keep trying while the control plane does not answer (a restart, a
# rollout): the results exist only in this pod.
RETRY_FOR_SECONDS = 900


def archive(log_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name in RESULT_DIRS:
            top = os.path.join(USER_DATA, name)
            for root, _dirs, files in os.walk(top):
                for file in files:
                    path = os.path.join(root, file)
                    if os.path.isfile(path) and not os.path.islink(path):
                        zipped.write(path, os.path.relpath(path, USER_DATA))
        if os.path.isfile(log_path):
            zipped.write(log_path, LOG_NAME)
    return buffer.getvalue()


def main():
    status, log_path = sys.argv[1], sys.argv[2]
    url = os.environ["ANYTRADE_RESULTS_URL"]
    with open(TOKEN_FILE, encoding="ascii") as file:
        token = file.read().strip()
    body = archive(log_path)
    delay = 1
    give_up = time.monotonic() + RETRY_FOR_SECONDS
    attempt = 0
    while True:
        attempt += 1
        request = urllib.request.Request(url, data=body, method="PUT")
        request.add_header("Authorization", "Bearer " + token)
        request.add_header("Content-Type", "application/zip")
        request.add_header("X-Anytrade-Exit-Status", status)
        try:
            with urllib.request.urlopen(request, timeout=60):
                print("anytrade: results sent (%d bytes)" % len(body))
                return 0
        except urllib.error.HTTPError as error:
            if error.code == 409:
                print("anytrade: results were already sent")
                return 0
            if error.code < 500:
                print("anytrade: the control plane refused the results: %s" % error)
                return 1
            reason = error
        except OSError as error:
            reason = error
        print("anytrade: sending results failed (attempt %d): %s" % (attempt, reason))
        if time.monotonic() + delay > give_up:
            return 1
        time.sleep(delay)
        delay = min(delay * 2, 30)


sys.exit(main())
