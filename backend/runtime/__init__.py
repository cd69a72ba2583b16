"""Django-free execution of notebooks: shared by the local engine and the generated Airflow DAGs."""
