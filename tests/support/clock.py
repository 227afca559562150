"""A clock for the rate limiters' tests."""


class FakeClock:
    """Time that passes only when the limiter sleeps: its pacing measured exactly, whatever the machine's load."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
