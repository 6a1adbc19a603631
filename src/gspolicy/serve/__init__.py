"""The decision service (`gspolicy serve`): the library's deciding, explaining and validating over
HTTP for applications that are not written in Python.

The app is built by `gspolicy.serve.app.create_app`; the policy set it runs is held by
`gspolicy.serve.state.Holder` and swapped whole on SIGHUP; the playground (`gspolicy.serve.playground`, a page and
its endpoints) is mounted beside the API.  FastAPI and uvicorn come with the
``serve`` extra and are imported only here (docs/how-to/serve.md).
"""
