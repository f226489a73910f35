import signal
import time


class Model:
    """Sleeps with SIGINT blocked: stands for native code that never checks
    for interrupts, so the daemon must kill it after the interrupt grace."""

    def __init__(self, model_dir):
        pass

    def predict(self, inputs):
        seconds = float(inputs["seconds"].ravel()[0])
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            time.sleep(seconds)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
        return {"slept": inputs["seconds"]}
