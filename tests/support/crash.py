"""A DynamoDB client that 'dies' after a number of batch writes: the interruption a resumed load must survive."""


class Crash(Exception):
    pass


class CrashAfter:
    """The real client, until ``calls`` batch writes have gone through; then every call raises ``Crash``."""

    def __init__(self, inner, calls):
        self.inner, self.calls = inner, calls

    def batch_write_item(self, **kwargs):
        self.calls -= 1
        if self.calls < 0:
            raise Crash("caída simulada a mitad de la carga")
        return self.inner.batch_write_item(**kwargs)

    def __getattr__(self, name):  # every other call (DescribeTable ...) is the real client's
        return getattr(self.inner, name)
