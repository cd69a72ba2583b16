import { useEffect } from "react";
import { runFinished } from "../graph/runs";
import { useStore } from "../store";

/** Refresh the shown run about once a second until it finishes. */
export function useRunPolling() {
  const runId = useStore((s) => s.run?.id);
  const finished = useStore((s) => (s.run ? runFinished(s.run.status) : true));
  useEffect(() => {
    if (runId === undefined || finished) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const tick = async () => {
      try {
        await useStore.getState().refreshRun();
      } catch {
        // A missed poll (server restarting) is retried on the next tick.
      }
      if (!stopped) timer = setTimeout(tick, 1000);
    };
    timer = setTimeout(tick, 1000);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [runId, finished]);
}
