"""Never imported: this model runs under fake_host.py (config.json names it
as its "interpreter", a worker host of its own). A python model's version
directory must hold a model.py, so the repository accepts it."""
