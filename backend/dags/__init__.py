"""Rendering workflow versions into Airflow 3 DAG files (templates in dag_templates/)."""
