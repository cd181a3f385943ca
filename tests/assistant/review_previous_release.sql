-- review.db as the previous release (sqlite-utils, before the Alembic migrations) wrote it: dumped from a home
-- made by training/review.py on main at e9a0cd5; tests/assistant/test_logs_adoption.py checks it.
BEGIN TRANSACTION;
CREATE TABLE "items" (
   "id" INTEGER PRIMARY KEY,
   "turn_id" TEXT,
   "session_id" TEXT,
   "created_at" REAL,
   "text" TEXT,
   "language" TEXT,
   "predicted" TEXT,
   "confidence" REAL,
   "reasons" TEXT,
   "status" TEXT,
   "label" TEXT,
   "reviewer" TEXT,
   "reviewed_at" REAL
);
INSERT INTO "items" VALUES(1,'turn-2','s1-open',1.79622553338768625261e+09,'what is the weather','en','out_of_scope',0.4,'thumbs_down,unanswered','pending',NULL,NULL,NULL);
INSERT INTO "items" VALUES(2,'turn-x','gone',1.79622553339254045485e+09,'What is the weather ','en','out_of_scope',0.3,'unanswered','pending',NULL,NULL,NULL);
INSERT INTO "items" VALUES(3,'turn-4','s3-closed',1.79622553339980459219e+09,'how do refunds work','en','refund_policy',0.8,'low_confidence','confirmed','refund_policy','erin',1.79622553340079689019e+09);
CREATE UNIQUE INDEX "idx_items_turn_id"
    ON "items" ("turn_id");
CREATE INDEX "idx_items_status"
    ON "items" ("status");
COMMIT;
