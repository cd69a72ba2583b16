"""Static files storage: WhiteNoise's compressed, hashed names once `manage.py collectstatic`
wrote its manifest (the Docker image, scripts/prod-smoke.sh); before that (development, tests),
the plain names, which WhiteNoise or runserver serve from the apps' folders."""
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    def stored_name(self, name):
        if not self.hashed_files:  # no manifest yet
            return name
        return super().stored_name(name)
