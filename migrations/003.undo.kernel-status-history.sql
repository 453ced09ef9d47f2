DROP TABLE kernel_status_history;
