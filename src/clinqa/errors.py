"""Named errors. They are translated to exit codes and messages only at the edges (CLI, web)."""


class ClinqaError(Exception):
    """Base class of every error clinqa raises on purpose."""


class IngestError(ClinqaError):
    """A file could not be read or parsed; the message names the file and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self) -> tuple[type, tuple[str, str]]:  # raised in an answer process, re-raised in the worker
        return type(self), (self.path, self.reason)


class NotFound(ClinqaError):
    """A document, passage or other record does not exist."""


class StoreError(ClinqaError):
    """The knowledge base cannot be opened or is not a clinqa database."""


class NoKnowledgeBase(ClinqaError):
    """The knowledge base a reading command names does not exist, or holds no sources yet."""


class ModelUnavailable(ClinqaError):
    """The embedding model's files are not installed."""


class RecordError(ClinqaError):
    """A FHIR patient record cannot be read; the message names the file (or request) and the resource."""

    def __init__(self, source: str, reason: str, resource: str | None = None) -> None:
        super().__init__(f"{source}: {resource}: {reason}" if resource else f"{source}: {reason}")
        self.source = source
        self.reason = reason
        self.resource = resource

    def __reduce__(self) -> tuple[type, tuple[str, str, str | None]]:
        return type(self), (self.source, self.reason, self.resource)
