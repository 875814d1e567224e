from tests.integration.conftest import api, runtime  # noqa: F401  (the same local runtime)
