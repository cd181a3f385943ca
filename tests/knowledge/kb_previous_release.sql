BEGIN TRANSACTION;
CREATE TABLE "audit" (
   "id" INTEGER PRIMARY KEY,
   "at" REAL,
   "actor" TEXT,
   "action" TEXT,
   "target" TEXT,
   "detail" TEXT
);
INSERT INTO "audit" VALUES(1,1.79628461274375724786e+09,'setup','ingest','/tmp/k-prev/docs/returns.md','{"status": "added", "chunks": 1}');
INSERT INTO "audit" VALUES(2,1.7962846127484514713e+09,'setup','ingest','/tmp/k-prev/docs/shipping.md','{"status": "added", "chunks": 1}');
INSERT INTO "audit" VALUES(3,1.79628461276760935782e+09,'setup','ingest','/tmp/k-prev/docs/templates.yaml','{"status": "added", "chunks": 4}');
INSERT INTO "audit" VALUES(4,1.7962846127872872352e+09,'setup','ingest','/tmp/k-prev/docs/zh/returns-zh.md','{"status": "added", "chunks": 1}');
INSERT INTO "audit" VALUES(5,1796284612.79207,'setup','publish','v1','{"note": "ingest of 4 file(s)", "changes": 4}');
INSERT INTO "audit" VALUES(6,1.79628461323732852936e+09,'alice','upsert_template','admin://templates','{"template": "refund-en", "document": "2213f6af0a576ef8"}');
INSERT INTO "audit" VALUES(7,1.79628461379540967936e+09,'alice','upsert_template','admin://templates','{"template": "refund-zh", "document": "2213f6af0a576ef8"}');
INSERT INTO "audit" VALUES(8,1.79628461379904842375e+09,'alice','publish','v2','{"note": "refund answers", "changes": 1}');
INSERT INTO "audit" VALUES(9,1.79628461391438031197e+09,'bob','upsert_template','admin://templates','{"template": "refund-en", "document": "2213f6af0a576ef8", "twins_marked": ["refund-zh"]}');
INSERT INTO "audit" VALUES(10,1.79628461391630101203e+09,'bob','publish','v3','{"note": "", "changes": 1}');
INSERT INTO "audit" VALUES(11,1.79628461392807173722e+09,'carol','rollback','v2','{"from": 3}');
INSERT INTO "audit" VALUES(12,1.79628461412667417523e+09,'dave','upsert_template','admin://templates','{"template": "refund-en", "document": "2213f6af0a576ef8", "twins_marked": ["refund-zh"]}');
CREATE TABLE "documents" (
   "id" TEXT PRIMARY KEY,
   "uri" TEXT,
   "kind" TEXT,
   "title" TEXT,
   "language" TEXT,
   "tags" TEXT,
   "hash" TEXT,
   "size" INTEGER,
   "chunks" INTEGER,
   "ingested_at" REAL,
   "body" TEXT,
   "updated_at" REAL,
   "updated_by" TEXT
);
INSERT INTO "documents" VALUES('2614dfcb9cf0a069','/tmp/k-prev/docs/templates.yaml','templates','templates','en','[]','1e7623facd518d522485a110d9ebdae4e38152bc17391faeeee5989bbbcc338e',564,4,1.79628461146079015735e+09,NULL,NULL,NULL);
INSERT INTO "documents" VALUES('6029a55e452e90e0','/tmp/k-prev/docs/shipping.md','document','Shipping options and costs','en','[]','aaacaa620c5d3daac57b38ad2a4175bb34d30250a2cbccec1d2740fedb4f9c70',328,1,1.79628461145783638961e+09,'# Shipping options and costs

Standard shipping is free on orders over $35 and takes 3 to 5 business days. Express shipping costs
$9.99 and arrives in 1 to 2 business days. We ship to all 50 US states and to Canada.

| Option | Price | Time |
|---|---|---|
| Standard | Free over $35 | 3-5 days |
| Express | $9.99 | 1-2 days |
',NULL,NULL);
INSERT INTO "documents" VALUES('a6bfe8bfc7c80353','/tmp/k-prev/docs/zh/returns-zh.md','document','如何退货','zh','[]','0b77dc385bacdadb485be40a8194871d6d980a7f0450ceaf3aad1ac8a5326268',297,1,1.79628461146187567718e+09,'
大多数商品在签收后 30 天内可以退货并获得全额退款。请在“账户 > 订单 > 退货”中申请退货，并打印预付运单。

## 退款时间

退款会在仓库收到包裹后的 5 到 7 个工作日内退回原支付方式。
',NULL,NULL);
INSERT INTO "documents" VALUES('b42a86639e2cc020','/tmp/k-prev/docs/returns.md','document','How to return an item','en','["returns"]','b48223ce6e3ad9a14e1784dcd520b49e13f82629fbb2a68c82ac97cc22f890c9',556,1,1.79628461145387792585e+09,'
You can return most items within 30 days of delivery for a full refund. Start the return online from
Account > Orders > Return items and print the prepaid shipping label.

## Start your return

1. Sign in and open **Account > Orders**.
2. Pick the order and choose **Return items**.
3. Select a reason and print the label or get a QR code.

## Refund timing

Refunds go back to the original payment method within 5 to 7 business days after the parcel arrives at
our warehouse. Store credit is instant.
',NULL,NULL);
INSERT INTO "documents" VALUES('2213f6af0a576ef8','admin://templates','templates','Templates (admin)','en','[]','',0,2,NULL,NULL,1.79628461395053148266e+09,'dave');
CREATE TABLE "draft_units" (
   "rev" TEXT PRIMARY KEY,
   "doc_id" TEXT
);
INSERT INTO "draft_units" VALUES('6029a55e452e90e0-0000@fe93a3dc81e5','6029a55e452e90e0');
INSERT INTO "draft_units" VALUES('a6bfe8bfc7c80353-0000@f6f35715c7c0','a6bfe8bfc7c80353');
INSERT INTO "draft_units" VALUES('b42a86639e2cc020-0000@ed81434b6aa1','b42a86639e2cc020');
INSERT INTO "draft_units" VALUES('slot:name@0b9b1e292a9a','2614dfcb9cf0a069');
INSERT INTO "draft_units" VALUES('slot:order_id@6cbf590a93ee','2614dfcb9cf0a069');
INSERT INTO "draft_units" VALUES('tpl:greeting-en@e2a4d8dc159e','2614dfcb9cf0a069');
INSERT INTO "draft_units" VALUES('tpl:order-status-en@273036f67fc6','2614dfcb9cf0a069');
INSERT INTO "draft_units" VALUES('tpl:refund-zh@4c6ab3f5fd14','2213f6af0a576ef8');
INSERT INTO "draft_units" VALUES('tpl:refund-en@2607105d07ff','2213f6af0a576ef8');
CREATE TABLE "meta" (
   "key" TEXT PRIMARY KEY,
   "value" TEXT
);
INSERT INTO "meta" VALUES('schema','2');
INSERT INTO "meta" VALUES('live_version','2');
CREATE TABLE "twin_flags" (
   "kind" TEXT,
   "item_id" TEXT,
   "source_id" TEXT,
   "source_language" TEXT,
   "source_title" TEXT,
   "actor" TEXT,
   "at" REAL,
   "fields" TEXT,
   "diff" TEXT,
   PRIMARY KEY ("kind", "item_id")
);
INSERT INTO "twin_flags" VALUES('template','refund-zh','refund-en','en','Refunds','dave',1.79628461412678575512e+09,'answer','“…card within 5 business days…” → “…card within 4 business days…”');
CREATE TABLE "units" (
   "id" TEXT PRIMARY KEY,
   "uid" TEXT,
   "doc_id" TEXT,
   "kind" TEXT,
   "ord" INTEGER,
   "title" TEXT,
   "heading" TEXT,
   "text" TEXT,
   "language" TEXT,
   "tags" TEXT,
   "intent" TEXT,
   "uri" TEXT,
   "ref" TEXT,
   "path" TEXT,
   "url" TEXT
);
INSERT INTO "units" VALUES('b42a86639e2cc020-0000@ed81434b6aa1','b42a86639e2cc020-0000','b42a86639e2cc020','document',0,'How to return an item','','You can return most items within 30 days of delivery for a full refund. Start the return online from
Account > Orders > Return items and print the prepaid shipping label.

## Start your return

1. Sign in and open **Account > Orders**.
2. Pick the order and choose **Return items**.
3. Select a reason and print the label or get a QR code.

## Refund timing

Refunds go back to the original payment method within 5 to 7 business days after the parcel arrives at
our warehouse. Store credit is instant.','en','["returns"]',NULL,'/tmp/k-prev/docs/returns.md',NULL,'returns.md',NULL);
INSERT INTO "units" VALUES('6029a55e452e90e0-0000@fe93a3dc81e5','6029a55e452e90e0-0000','6029a55e452e90e0','document',0,'Shipping options and costs','Shipping options and costs','# Shipping options and costs

Standard shipping is free on orders over $35 and takes 3 to 5 business days. Express shipping costs
$9.99 and arrives in 1 to 2 business days. We ship to all 50 US states and to Canada.

| Option | Price | Time |
|---|---|---|
| Standard | Free over $35 | 3-5 days |
| Express | $9.99 | 1-2 days |','en','[]',NULL,'/tmp/k-prev/docs/shipping.md',NULL,'shipping.md',NULL);
INSERT INTO "units" VALUES('tpl:greeting-en@e2a4d8dc159e','tpl:greeting-en','2614dfcb9cf0a069','template',0,'Greeting','','Hi {name}! How can I help you today?','en','[]','greeting','template:greeting-en','greeting-en',NULL,NULL);
INSERT INTO "units" VALUES('tpl:order-status-en@273036f67fc6','tpl:order-status-en','2614dfcb9cf0a069','template',0,'Where is my order','','You can track order {order_id} under Account > Orders. Tracking appears once it ships.','en','[]','order_status','template:order-status-en','order-status-en',NULL,NULL);
INSERT INTO "units" VALUES('slot:name@0b9b1e292a9a','slot:name','2614dfcb9cf0a069','slot',0,'name','','{"ask": {"en": "What''s your name?"}, "case": "keep", "format": "{1}", "ignore_case": false, "pattern": "(?:I''m|I am|my name is) ([A-Z][a-z]+)"}','','[]',NULL,'slot:name','name',NULL,NULL);
INSERT INTO "units" VALUES('slot:order_id@6cbf590a93ee','slot:order_id','2614dfcb9cf0a069','slot',0,'order_id','','{"ask": {"en": "What''s your order number?"}, "case": "keep", "format": "KH-{1}", "ignore_case": true, "pattern": "KH-?(\\d{8})"}','','[]',NULL,'slot:order_id','order_id',NULL,NULL);
INSERT INTO "units" VALUES('a6bfe8bfc7c80353-0000@f6f35715c7c0','a6bfe8bfc7c80353-0000','a6bfe8bfc7c80353','document',0,'如何退货','','大多数商品在签收后 30 天内可以退货并获得全额退款。请在“账户 > 订单 > 退货”中申请退货，并打印预付运单。

## 退款时间

退款会在仓库收到包裹后的 5 到 7 个工作日内退回原支付方式。','zh','[]',NULL,'/tmp/k-prev/docs/zh/returns-zh.md',NULL,'zh/returns-zh.md',NULL);
INSERT INTO "units" VALUES('tpl:refund-en@236b48f21add','tpl:refund-en','2213f6af0a576ef8','template',0,'Refunds','','Refunds reach your card within 5 business days.','en','[]','refund','template:refund-en','refund-en',NULL,NULL);
INSERT INTO "units" VALUES('tpl:refund-zh@4c6ab3f5fd14','tpl:refund-zh','2213f6af0a576ef8','template',0,'退款','','退款会在 5 个工作日内退回您的银行卡。','zh','[]','refund','template:refund-zh','refund-zh',NULL,NULL);
INSERT INTO "units" VALUES('tpl:refund-en@6e5076a59729','tpl:refund-en','2213f6af0a576ef8','template',0,'Refunds','','Refunds reach your card within 3 business days.','en','[]','refund','template:refund-en','refund-en',NULL,NULL);
INSERT INTO "units" VALUES('tpl:refund-en@2607105d07ff','tpl:refund-en','2213f6af0a576ef8','template',0,'Refunds','','Refunds reach your card within 4 business days.','en','[]','refund','template:refund-en','refund-en',NULL,NULL);
CREATE TABLE version_documents(
  version,
  id TEXT,
  uri TEXT,
  kind TEXT,
  title TEXT,
  language TEXT,
  tags TEXT,
  hash TEXT,
  size INT,
  chunks INT,
  ingested_at REAL,
  body TEXT,
  updated_at REAL,
  updated_by TEXT
);
INSERT INTO "version_documents" VALUES(1,'b42a86639e2cc020','/tmp/k-prev/docs/returns.md','document','How to return an item','en','["returns"]','b48223ce6e3ad9a14e1784dcd520b49e13f82629fbb2a68c82ac97cc22f890c9',556,1,1.79628461145387792585e+09,'
You can return most items within 30 days of delivery for a full refund. Start the return online from
Account > Orders > Return items and print the prepaid shipping label.

## Start your return

1. Sign in and open **Account > Orders**.
2. Pick the order and choose **Return items**.
3. Select a reason and print the label or get a QR code.

## Refund timing

Refunds go back to the original payment method within 5 to 7 business days after the parcel arrives at
our warehouse. Store credit is instant.
',NULL,NULL);
INSERT INTO "version_documents" VALUES(1,'6029a55e452e90e0','/tmp/k-prev/docs/shipping.md','document','Shipping options and costs','en','[]','aaacaa620c5d3daac57b38ad2a4175bb34d30250a2cbccec1d2740fedb4f9c70',328,1,1.79628461145783638961e+09,'# Shipping options and costs

Standard shipping is free on orders over $35 and takes 3 to 5 business days. Express shipping costs
$9.99 and arrives in 1 to 2 business days. We ship to all 50 US states and to Canada.

| Option | Price | Time |
|---|---|---|
| Standard | Free over $35 | 3-5 days |
| Express | $9.99 | 1-2 days |
',NULL,NULL);
INSERT INTO "version_documents" VALUES(1,'2614dfcb9cf0a069','/tmp/k-prev/docs/templates.yaml','templates','templates','en','[]','1e7623facd518d522485a110d9ebdae4e38152bc17391faeeee5989bbbcc338e',564,4,1.79628461146079015735e+09,NULL,NULL,NULL);
INSERT INTO "version_documents" VALUES(1,'a6bfe8bfc7c80353','/tmp/k-prev/docs/zh/returns-zh.md','document','如何退货','zh','[]','0b77dc385bacdadb485be40a8194871d6d980a7f0450ceaf3aad1ac8a5326268',297,1,1.79628461146187567718e+09,'
大多数商品在签收后 30 天内可以退货并获得全额退款。请在“账户 > 订单 > 退货”中申请退货，并打印预付运单。

## 退款时间

退款会在仓库收到包裹后的 5 到 7 个工作日内退回原支付方式。
',NULL,NULL);
INSERT INTO "version_documents" VALUES(2,'b42a86639e2cc020','/tmp/k-prev/docs/returns.md','document','How to return an item','en','["returns"]','b48223ce6e3ad9a14e1784dcd520b49e13f82629fbb2a68c82ac97cc22f890c9',556,1,1.79628461145387792585e+09,'
You can return most items within 30 days of delivery for a full refund. Start the return online from
Account > Orders > Return items and print the prepaid shipping label.

## Start your return

1. Sign in and open **Account > Orders**.
2. Pick the order and choose **Return items**.
3. Select a reason and print the label or get a QR code.

## Refund timing

Refunds go back to the original payment method within 5 to 7 business days after the parcel arrives at
our warehouse. Store credit is instant.
',NULL,NULL);
INSERT INTO "version_documents" VALUES(2,'6029a55e452e90e0','/tmp/k-prev/docs/shipping.md','document','Shipping options and costs','en','[]','aaacaa620c5d3daac57b38ad2a4175bb34d30250a2cbccec1d2740fedb4f9c70',328,1,1.79628461145783638961e+09,'# Shipping options and costs

Standard shipping is free on orders over $35 and takes 3 to 5 business days. Express shipping costs
$9.99 and arrives in 1 to 2 business days. We ship to all 50 US states and to Canada.

| Option | Price | Time |
|---|---|---|
| Standard | Free over $35 | 3-5 days |
| Express | $9.99 | 1-2 days |
',NULL,NULL);
INSERT INTO "version_documents" VALUES(2,'2614dfcb9cf0a069','/tmp/k-prev/docs/templates.yaml','templates','templates','en','[]','1e7623facd518d522485a110d9ebdae4e38152bc17391faeeee5989bbbcc338e',564,4,1.79628461146079015735e+09,NULL,NULL,NULL);
INSERT INTO "version_documents" VALUES(2,'a6bfe8bfc7c80353','/tmp/k-prev/docs/zh/returns-zh.md','document','如何退货','zh','[]','0b77dc385bacdadb485be40a8194871d6d980a7f0450ceaf3aad1ac8a5326268',297,1,1.79628461146187567718e+09,'
大多数商品在签收后 30 天内可以退货并获得全额退款。请在“账户 > 订单 > 退货”中申请退货，并打印预付运单。

## 退款时间

退款会在仓库收到包裹后的 5 到 7 个工作日内退回原支付方式。
',NULL,NULL);
INSERT INTO "version_documents" VALUES(2,'2213f6af0a576ef8','admin://templates','templates','Templates (admin)','en','[]','',0,2,NULL,NULL,1.79628461324029088021e+09,'alice');
INSERT INTO "version_documents" VALUES(3,'b42a86639e2cc020','/tmp/k-prev/docs/returns.md','document','How to return an item','en','["returns"]','b48223ce6e3ad9a14e1784dcd520b49e13f82629fbb2a68c82ac97cc22f890c9',556,1,1.79628461145387792585e+09,'
You can return most items within 30 days of delivery for a full refund. Start the return online from
Account > Orders > Return items and print the prepaid shipping label.

## Start your return

1. Sign in and open **Account > Orders**.
2. Pick the order and choose **Return items**.
3. Select a reason and print the label or get a QR code.

## Refund timing

Refunds go back to the original payment method within 5 to 7 business days after the parcel arrives at
our warehouse. Store credit is instant.
',NULL,NULL);
INSERT INTO "version_documents" VALUES(3,'6029a55e452e90e0','/tmp/k-prev/docs/shipping.md','document','Shipping options and costs','en','[]','aaacaa620c5d3daac57b38ad2a4175bb34d30250a2cbccec1d2740fedb4f9c70',328,1,1.79628461145783638961e+09,'# Shipping options and costs

Standard shipping is free on orders over $35 and takes 3 to 5 business days. Express shipping costs
$9.99 and arrives in 1 to 2 business days. We ship to all 50 US states and to Canada.

| Option | Price | Time |
|---|---|---|
| Standard | Free over $35 | 3-5 days |
| Express | $9.99 | 1-2 days |
',NULL,NULL);
INSERT INTO "version_documents" VALUES(3,'2614dfcb9cf0a069','/tmp/k-prev/docs/templates.yaml','templates','templates','en','[]','1e7623facd518d522485a110d9ebdae4e38152bc17391faeeee5989bbbcc338e',564,4,1.79628461146079015735e+09,NULL,NULL,NULL);
INSERT INTO "version_documents" VALUES(3,'a6bfe8bfc7c80353','/tmp/k-prev/docs/zh/returns-zh.md','document','如何退货','zh','[]','0b77dc385bacdadb485be40a8194871d6d980a7f0450ceaf3aad1ac8a5326268',297,1,1.79628461146187567718e+09,'
大多数商品在签收后 30 天内可以退货并获得全额退款。请在“账户 > 订单 > 退货”中申请退货，并打印预付运单。

## 退款时间

退款会在仓库收到包裹后的 5 到 7 个工作日内退回原支付方式。
',NULL,NULL);
INSERT INTO "version_documents" VALUES(3,'2213f6af0a576ef8','admin://templates','templates','Templates (admin)','en','[]','',0,2,NULL,NULL,1.79628461382949090006e+09,'bob');
CREATE TABLE "version_twin_flags" (
   "version" INTEGER,
   "kind" TEXT,
   "item_id" TEXT,
   "source_id" TEXT,
   "source_language" TEXT,
   "source_title" TEXT,
   "actor" TEXT,
   "at" REAL,
   "fields" TEXT,
   "diff" TEXT,
   PRIMARY KEY ("version", "kind", "item_id")
);
INSERT INTO "version_twin_flags" VALUES(3,'template','refund-zh','refund-en','en','Refunds','bob',1.79628461391447758668e+09,'answer','“…card within 5 business days…” → “…card within 3 business days…”');
CREATE TABLE "version_units" (
   "version" INTEGER,
   "rev" TEXT,
   PRIMARY KEY ("version", "rev")
);
INSERT INTO "version_units" VALUES(1,'b42a86639e2cc020-0000@ed81434b6aa1');
INSERT INTO "version_units" VALUES(1,'6029a55e452e90e0-0000@fe93a3dc81e5');
INSERT INTO "version_units" VALUES(1,'tpl:greeting-en@e2a4d8dc159e');
INSERT INTO "version_units" VALUES(1,'tpl:order-status-en@273036f67fc6');
INSERT INTO "version_units" VALUES(1,'slot:name@0b9b1e292a9a');
INSERT INTO "version_units" VALUES(1,'slot:order_id@6cbf590a93ee');
INSERT INTO "version_units" VALUES(1,'a6bfe8bfc7c80353-0000@f6f35715c7c0');
INSERT INTO "version_units" VALUES(2,'b42a86639e2cc020-0000@ed81434b6aa1');
INSERT INTO "version_units" VALUES(2,'6029a55e452e90e0-0000@fe93a3dc81e5');
INSERT INTO "version_units" VALUES(2,'tpl:greeting-en@e2a4d8dc159e');
INSERT INTO "version_units" VALUES(2,'tpl:order-status-en@273036f67fc6');
INSERT INTO "version_units" VALUES(2,'slot:name@0b9b1e292a9a');
INSERT INTO "version_units" VALUES(2,'slot:order_id@6cbf590a93ee');
INSERT INTO "version_units" VALUES(2,'a6bfe8bfc7c80353-0000@f6f35715c7c0');
INSERT INTO "version_units" VALUES(2,'tpl:refund-en@236b48f21add');
INSERT INTO "version_units" VALUES(2,'tpl:refund-zh@4c6ab3f5fd14');
INSERT INTO "version_units" VALUES(3,'b42a86639e2cc020-0000@ed81434b6aa1');
INSERT INTO "version_units" VALUES(3,'6029a55e452e90e0-0000@fe93a3dc81e5');
INSERT INTO "version_units" VALUES(3,'tpl:greeting-en@e2a4d8dc159e');
INSERT INTO "version_units" VALUES(3,'tpl:order-status-en@273036f67fc6');
INSERT INTO "version_units" VALUES(3,'slot:name@0b9b1e292a9a');
INSERT INTO "version_units" VALUES(3,'slot:order_id@6cbf590a93ee');
INSERT INTO "version_units" VALUES(3,'a6bfe8bfc7c80353-0000@f6f35715c7c0');
INSERT INTO "version_units" VALUES(3,'tpl:refund-zh@4c6ab3f5fd14');
INSERT INTO "version_units" VALUES(3,'tpl:refund-en@6e5076a59729');
CREATE TABLE "versions" (
   "version" INTEGER PRIMARY KEY,
   "created_at" REAL,
   "actor" TEXT,
   "note" TEXT,
   "documents" INTEGER,
   "chunks" INTEGER,
   "templates" INTEGER,
   "changes" TEXT
);
INSERT INTO "versions" VALUES(1,1.79628461279181838032e+09,'setup','ingest of 4 file(s)',3,3,2,'3 documents, 2 templates added');
INSERT INTO "versions" VALUES(2,1.7962846137988107204e+09,'alice','refund answers',3,3,4,'2 templates added');
INSERT INTO "versions" VALUES(3,1.79628461391611313818e+09,'bob','',3,3,4,'1 template changed');
CREATE UNIQUE INDEX "idx_documents_uri"
    ON "documents" ("uri");
CREATE INDEX "idx_units_doc_id"
    ON "units" ("doc_id");
CREATE INDEX "idx_units_uid"
    ON "units" ("uid");
CREATE INDEX "idx_draft_units_doc_id"
    ON "draft_units" ("doc_id");
CREATE INDEX "idx_version_units_rev"
    ON "version_units" ("rev");
CREATE UNIQUE INDEX idx_version_documents ON version_documents (version, id);
CREATE VIRTUAL TABLE units_fts USING fts5(unit_id UNINDEXED, title, heading, body, tokenize='porter unicode61 remove_diacritics 2');
INSERT INTO units_fts VALUES('b42a86639e2cc020-0000@ed81434b6aa1','How to return an item','','You can return most items within 30 days of delivery for a full refund. Start the return online from
Account > Orders > Return items and print the prepaid shipping label.

## Start your return

1. Sign in and open **Account > Orders**.
2. Pick the order and choose **Return items**.
3. Select a reason and print the label or get a QR code.

## Refund timing

Refunds go back to the original payment method within 5 to 7 business days after the parcel arrives at
our warehouse. Store credit is instant.');
INSERT INTO units_fts VALUES('6029a55e452e90e0-0000@fe93a3dc81e5','Shipping options and costs','Shipping options and costs','# Shipping options and costs

Standard shipping is free on orders over $35 and takes 3 to 5 business days. Express shipping costs
$9.99 and arrives in 1 to 2 business days. We ship to all 50 US states and to Canada.

| Option | Price | Time |
|---|---|---|
| Standard | Free over $35 | 3-5 days |
| Express | $9.99 | 1-2 days |');
INSERT INTO units_fts VALUES('tpl:greeting-en@e2a4d8dc159e','Greeting','','Hi {name}! How can I help you today?');
INSERT INTO units_fts VALUES('tpl:order-status-en@273036f67fc6','Where is my order','','You can track order {order_id} under Account > Orders. Tracking appears once it ships.');
INSERT INTO units_fts VALUES('slot:name@0b9b1e292a9a','name','','{"ask": {"en": "What''s your name?"}, "case": "keep", "format": "{1}", "ignore_case": false, "pattern": "(?:I''m|I am|my name is) ([A-Z][a-z]+)"}');
INSERT INTO units_fts VALUES('slot:order_id@6cbf590a93ee','order_id','','{"ask": {"en": "What''s your order number?"}, "case": "keep", "format": "KH-{1}", "ignore_case": true, "pattern": "KH-?(\\d{8})"}');
INSERT INTO units_fts VALUES('a6bfe8bfc7c80353-0000@f6f35715c7c0',' 如何 何退 退货 ','',' 大多 多数 数商 商品 品在 在签 签收 收后  30  天内 内可 可以 以退 退货 货并 并获 获得 得全 全额 额退 退款 。 请在 “ 账户  >  订单  >  退货 ” 中申 申请 请退 退货 ， 并打 打印 印预 预付 付运 运单 。

##  退款 款时 时间 

 退款 款会 会在 在仓 仓库 库收 收到 到包 包裹 裹后 后的  5  到  7  个工 工作 作日 日内 内退 退回 回原 原支 支付 付方 方式 。');
INSERT INTO units_fts VALUES('tpl:refund-en@236b48f21add','Refunds','','Refunds reach your card within 5 business days.');
INSERT INTO units_fts VALUES('tpl:refund-zh@4c6ab3f5fd14',' 退款 ','',' 退款 款会 会在  5  个工 工作 作日 日内 内退 退回 回您 您的 的银 银行 行卡 。');
INSERT INTO units_fts VALUES('tpl:refund-en@6e5076a59729','Refunds','','Refunds reach your card within 3 business days.');
INSERT INTO units_fts VALUES('tpl:refund-en@2607105d07ff','Refunds','','Refunds reach your card within 4 business days.');
COMMIT;
