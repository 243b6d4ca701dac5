#!/usr/bin/env python3
"""A Drover process agent in plain Python 3 (no packages).

The node starts it, writes JSON Lines to its stdin and reads JSON Lines from its stdout
(see docs/agent-protocol.md). It echoes each task's input and counts the tasks it has
answered; the count is checkpointed, so a restart - on this node or another - goes on
counting where it stopped.

Try it by hand:
    printf '%s\n' '{"type":"init","agent_id":"a1","agent_type":"py_echo","generation":1,"config":{},"state":null}' \
                  '{"type":"task","task_id":"t1","input":{"hello":"world"},"attempt":1}' \
                  '{"type":"shutdown"}' | python3 examples/agents/python/echo_agent.py
"""
import json
import sys


def send(message):
    """Writes one protocol line and flushes, so the node sees it at once."""
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def log(message, level="info"):
    send({"type": "log", "level": level, "message": message})


def main():
    agent_id = "unknown"
    count = 0
    while True:
        raw = sys.stdin.readline()  # one line at a time, as the node writes them
        if not raw:
            break  # stdin closed: the node is gone
        line = raw.strip()
        if not line:
            continue
        try:
            message = json.loads(line)
        except ValueError:
            log("ignored a line that is not JSON: %s" % line[:200], "warning")
            continue
        if not isinstance(message, dict):
            continue
        kind = message.get("type")
        if kind == "init":
            agent_id = message.get("agent_id", agent_id)
            state = message.get("state") or {}
            count = int(state.get("count", 0)) if isinstance(state, dict) else 0
            log("echo agent %s started at generation %s with count %d" % (agent_id, message.get("generation"), count))
        elif kind == "task":
            task_id = message.get("task_id")
            task_input = message.get("input")
            if isinstance(task_input, dict) and task_input.get("fail"):
                send({"type": "error", "task_id": task_id, "error": "asked to fail (input.fail is true)"})
                continue
            count += 1
            send({"type": "checkpoint", "state": {"count": count}})
            send({"type": "result", "task_id": task_id,
                  "output": {"echo": task_input, "count": count, "agent_id": agent_id}})
        elif kind == "shutdown":
            log("echo agent %s shutting down at count %d" % (agent_id, count))
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
