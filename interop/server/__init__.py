"""Python apps the Node interop suite (``interop/tests``) runs against."""
