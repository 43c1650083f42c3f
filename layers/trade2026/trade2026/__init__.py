"""Trade2026: the shared code of every Lambda function (deployed as a layer).

- ``trade2026.domain``: pure Python/numpy (no AWS, no environment, no I/O).
- ``trade2026.adapters``: the only code that talks to AWS.
- ``trade2026.api``, ``trade2026.observability``, ``trade2026.errors``: what handlers share.
"""

__version__ = "0.1.0"
