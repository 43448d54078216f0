-- CreateTable: named layout presets (layout, theme, overlays, size, fps) that a start or a live change names
CREATE TABLE "LayoutPreset" (
    "name" TEXT NOT NULL,
    "layout" TEXT,
    "theme" TEXT,
    "width" INTEGER,
    "height" INTEGER,
    "fps" INTEGER,
    "overlays" JSONB,
    "createdBy" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "LayoutPreset_pkey" PRIMARY KEY ("name")
);
