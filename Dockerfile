FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Collect static files at build time; a throwaway key is enough for collectstatic.
RUN DJANGO_DEBUG=0 SECRET_KEY=build-only-key-build-only-key-build-only-key-0123456789 ALLOWED_HOSTS=x \
    python manage.py collectstatic --noinput
RUN useradd --create-home csm && chown -R csm /app
USER csm
EXPOSE 8000
