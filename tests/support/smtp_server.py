"""A tiny SMTP server for the end-to-end tests (aiosmtpd).

    python smtp_server.py --port PORT --out FILE.jsonl [--fail-after N] [--fail-code 451]

Every accepted message is appended to FILE as one JSON line:
{"from", "to", "subject", "text", "html"} (the plain and HTML parts decoded).
With --fail-after N, the server accepts N messages and then answers every
further DATA with the error code (451: try again later; 554: refused).
Prints "ready" once it listens; stops on SIGTERM or SIGINT.
"""

import argparse
import email
import email.policy
import json
import signal
import threading

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, out, fail_after, fail_code, drop_after):
        self.out = out
        self.fail_after = fail_after
        self.fail_code = fail_code
        self.drop_after = drop_after
        self.accepted = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.fail_after is not None and self.accepted >= self.fail_after:
                if self.fail_code >= 500:
                    return f"{self.fail_code} 5.3.0 Refused by the test server"
                return f"{self.fail_code} 4.3.0 Try again later (test server)"
            msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
            text = msg.get_body(preferencelist=("plain",))
            html = msg.get_body(preferencelist=("html",))
            record = {
                "from": envelope.mail_from,
                "to": envelope.rcpt_tos,
                "subject": str(msg.get("subject", "")),
                "text": text.get_content() if text is not None else None,
                "html": html.get_content() if html is not None else None,
                "message_id": str(msg.get("message-id", "")),
            }
            with open(self.out, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
            self.accepted += 1
            if self.drop_after is not None and self.accepted > self.drop_after:
                # Taken, but the sender never hears so: an "unknown" outcome.
                server.transport.close()
            return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--fail-after", type=int, default=None)
    parser.add_argument("--fail-code", type=int, default=451)
    parser.add_argument("--drop-after", type=int, default=None)
    args = parser.parse_args()
    controller = Controller(
        Handler(args.out, args.fail_after, args.fail_code, args.drop_after), hostname="127.0.0.1", port=args.port
    )
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
