"""The app layer: the pipeline of steps (:mod:`klastergeo.app.pipeline`), the command line
(:mod:`klastergeo.app.cli`, :mod:`klastergeo.app.console`), the Python entry point
(:mod:`klastergeo.app.api`), the configuration (:mod:`klastergeo.app.config`) and the demo."""
