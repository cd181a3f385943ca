-- conversations.db as the previous release (sqlite-utils, before the Alembic migrations) wrote it: dumped from a home
-- made by assistant/conversations.py and feedback.py on main at e9a0cd5; tests/assistant/test_logs_adoption.py checks it.
PRAGMA user_version = 1;
BEGIN TRANSACTION;
CREATE TABLE "agent_messages" (
   "id" TEXT PRIMARY KEY,
   "session_id" TEXT REFERENCES "sessions"("id"),
   "created_at" REAL,
   "agent" TEXT,
   "text" TEXT
);
INSERT INTO "agent_messages" VALUES('d2362011fe8c4a69a8bf2cdd6dee4660','s2-handoff',1.79622553338545107846e+09,'dana','您好，我是Dana。');
CREATE TABLE "feedback" (
   "message_id" TEXT PRIMARY KEY,
   "session_id" TEXT,
   "rating" TEXT,
   "comment" TEXT,
   "created_at" REAL,
   "updated_at" REAL
);
INSERT INTO "feedback" VALUES('turn-4','s3-closed','up','clear, thanks',1.79622553338582134248e+09,1.79622553338582134248e+09);
INSERT INTO "feedback" VALUES('turn-2','s1-open','down','no help, call me on [PHONE]',1.79622553338590312007e+09,1.79622553338590312007e+09);
CREATE TABLE "sessions" (
   "id" TEXT PRIMARY KEY,
   "created_at" REAL,
   "updated_at" REAL,
   "language" TEXT,
   "status" TEXT,
   "failures" INTEGER,
   "slots" TEXT,
   "pending" TEXT,
   "topic" TEXT,
   "offer" TEXT,
   "user_ref" TEXT,
   "agent" TEXT,
   "waiting_since" REAL,
   "told_waiting" INTEGER
);
INSERT INTO "sessions" VALUES('s1-open',1.79622553335650968556e+09,1.79622553338040018082e+09,'en','open',1,'{"order_id": "KH-20481937"}','{"template_id": "t-status", "slot": "email", "intent": "order_status"}','where is my order','handoff',NULL,NULL,NULL,0);
INSERT INTO "sessions" VALUES('s2-handoff',1.79622553338522195813e+09,1.79622553338545107846e+09,'zh','handoff',0,'{}',NULL,NULL,NULL,'digest-cust-42','dana',1.79622553338525629048e+09,1);
INSERT INTO "sessions" VALUES('s3-closed',1.7962255333855280876e+09,1.79622553338570642468e+09,'en','closed',0,'{}',NULL,NULL,NULL,NULL,NULL,1.79622553338564729693e+09,0);
CREATE TABLE "turns" (
   "id" TEXT PRIMARY KEY,
   "session_id" TEXT REFERENCES "sessions"("id"),
   "created_at" REAL,
   "message" TEXT,
   "language" TEXT,
   "intent" TEXT,
   "confidence" REAL,
   "route" TEXT,
   "sources" TEXT,
   "reply" TEXT,
   "latency_ms" REAL,
   "trace" TEXT
);
INSERT INTO "turns" VALUES('turn-1','s1-open',1.79622553335658740993e+09,'where is my order KH-20481937, mail [EMAIL]','en','order_status',0.91,'template','[{"id": "t-status", "title": "Order status", "uri": "template:t-status", "snippet": "Orders ship in 2 days."}]','Let me check.',12.5,'{"stages_ms": {"total": 12.5}}');
INSERT INTO "turns" VALUES('turn-2','s1-open',1.79622553338040018082e+09,'what is the weather','en','out_of_scope',0.4,'fallback','[]','Sorry, I don''t know.',7.0,'{}');
INSERT INTO "turns" VALUES('turn-3','s2-handoff',1.79622553338525867464e+09,'我要人工客服','zh','human_agent',0.97,'handoff','[]','正在为您转接人工客服。',9.0,'{}');
INSERT INTO "turns" VALUES('turn-4','s3-closed',1.79622553338553452495e+09,'how do refunds work','en','refund_policy',0.8,'rag','[]','Refunds take 5 days.',30.0,'{}');
CREATE INDEX "idx_sessions_user_ref_updated_at"
    ON "sessions" ("user_ref", "updated_at");
CREATE INDEX "idx_agent_messages_session_id_created_at"
    ON "agent_messages" ("session_id", "created_at");
CREATE INDEX "idx_turns_session_id_created_at"
    ON "turns" ("session_id", "created_at");
CREATE INDEX "idx_turns_created_at"
    ON "turns" ("created_at");
COMMIT;
