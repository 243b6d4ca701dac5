"""Ray's side of `drover-bench-dispatch`: the same echo round trips against one Ray actor.

Started once by the benchmark with `--serve`; it starts a local Ray (2 CPUs), creates one echo
actor, then reads lines `TASKS CLIENTS` from stdin and answers each with one JSON line
`{"tasks_per_s": ..., "p50_ms": ..., "p99_ms": ...}`. Each client is a thread that sends a call
and waits for its answer before the next (`ray.get(actor.echo.remote(...))`), as each Drover
client sends a task with `?wait=true` and waits.

    python3 -m venv .venv-ray && .venv-ray/bin/pip install ray
    .build/release/drover-bench-dispatch --ray .venv-ray/bin/python
"""

import json
import sys
import threading
import time

import ray


@ray.remote
class Echo:
    def echo(self, value):
        return value


def run(actor, tasks, clients):
    per_client = tasks // clients
    latencies = [[] for _ in range(clients)]

    def client(index):
        mine = latencies[index]
        for n in range(per_client):
            sent = time.perf_counter()
            answer = ray.get(actor.echo.remote({"i": n}))
            if answer != {"i": n}:
                raise RuntimeError(f"wrong answer {answer!r}")
            mine.append((time.perf_counter() - sent) * 1000)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    every = sorted(x for part in latencies for x in part)
    if not every:
        return {"tasks_per_s": 0, "p50_ms": 0, "p99_ms": 0}

    def percentile(fraction):
        return every[min(len(every) - 1, int(len(every) * fraction))]

    return {"tasks_per_s": len(every) / elapsed, "p50_ms": percentile(0.5), "p99_ms": percentile(0.99)}


def main():
    if "--serve" not in sys.argv:
        print(__doc__)
        return 2
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    actor = Echo.remote()
    ray.get(actor.echo.remote("warm"))
    print(json.dumps({"ready": ray.__version__}), flush=True)
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 2:
            continue
        tasks, clients = int(parts[0]), int(parts[1])
        run(actor, min(tasks, 200), clients)  # warm the threads' path
        print(json.dumps(run(actor, tasks, clients)), flush=True)
    ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
