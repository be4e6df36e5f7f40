/**
 * How a command is stopped before it is done: Ctrl-C (SIGINT, or SIGTERM), or
 * the reader of its stdout going away (`ferry map … | head -1`). Either one
 * aborts the command's signal, so its calls are cancelled on the nodes, and
 * the command then ends with one calm line (exit 130) or quietly (exit 0).
 */

/** Why the command was stopped, once it was. */
export type StopReason = "interrupted" | "stdout closed";

const controller = new AbortController();
let reason: StopReason | undefined;
let watching = false;

/** Time the command gets to cancel its calls after its stdout closed, before the process ends. */
const CLOSED_STDOUT_GRACE_MS = 1000;

function stop(why: StopReason): void {
  if (reason !== undefined) {
    // A second Ctrl-C does not wait for the cancels to go out.
    if (why === "interrupted") process.exit(130);
    return;
  }
  reason = why;
  controller.abort(new Error(why === "interrupted" ? "interrupted" : "stdout was closed"));
  if (why === "stdout closed") {
    setTimeout(() => process.exit(0), CLOSED_STDOUT_GRACE_MS).unref();
  }
}

/**
 * Watches stdout for a closed pipe, for every command: a write to a pipe
 * whose reader left fails with EPIPE, which would otherwise end the process
 * with a stack trace.
 */
export function watchStdout(): void {
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE" || err.code === "ERR_STREAM_DESTROYED") stop("stdout closed");
    else throw err;
  });
}

/** The signal that stops this command; the first call starts listening for Ctrl-C. */
export function commandSignal(): AbortSignal {
  if (!watching) {
    watching = true;
    process.on("SIGINT", () => stop("interrupted"));
    process.on("SIGTERM", () => stop("interrupted"));
  }
  return controller.signal;
}

/** Why the command was stopped, or undefined while it runs. */
export function stopReason(): StopReason | undefined {
  return reason;
}

/** Whether stdout can still be written (its reader has not gone away). */
export function stdoutOpen(): boolean {
  return reason !== "stdout closed" && !process.stdout.destroyed;
}
